/**
 * Spawns the real Python server over stdio with vscode-jsonrpc (the transport
 * vscode-languageclient uses), with a scratch HOME/XDG and a git-repo workspace.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { Notifications, PROTOCOL_VERSION, type ContainerChangedParams, type EngineStatusParams } from '../../src/protocol';
import { ContainaiApi, type RpcSender } from '../../src/rpc';

export const EXT_ROOT = path.resolve(__dirname, '..', '..', '..');
export const REPO_ROOT = path.resolve(EXT_ROOT, '..');
export const TEST_IMAGE = process.env.CONTAINAI_E2E_IMAGE ?? 'containai-test-tiny:latest';

export function serverCommand(): string[] {
  const fromEnv = process.env.CONTAINAI_RPC_SERVER;
  if (fromEnv) return fromEnv.split(' ').filter(Boolean);
  return [path.join(REPO_ROOT, '.venv', 'bin', 'containai-rpc')];
}

export interface Scratch {
  root: string;
  home: string;
  env: Record<string, string>;
  cleanup(): void;
}

/** A scratch folder with HOME and XDG_* inside, plus the env the server needs here. */
export function makeScratch(prefix = 'cai-ext-'): Scratch {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  const home = path.join(root, 'home');
  for (const d of ['home', 'home/.config', 'home/.local/share', 'home/.local/state', 'home/.cache']) fs.mkdirSync(path.join(root, d), { recursive: true });
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    CONTAINAI_ALLOW_REDUCED_ISOLATION: '1',
    CONTAINAI_IMAGE: TEST_IMAGE,
    PYTHONUNBUFFERED: '1',
  });
  return { root, home, env, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** A git repository (branch `main`, one commit) at `<parent>/<name>`. */
export function makeGitWorkspace(parent: string, name: string): string {
  const dir = path.join(parent, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n`);
  const git = (...args: string[]): void => {
    cp.execFileSync('git', args, {
      cwd: dir,
      stdio: 'ignore',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid', HOME: parent },
    });
  };
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  return dir;
}

export interface Progress {
  token: string | number;
  value: { kind: string; title?: string; message?: string; percentage?: number };
}

export class ServerProcess {
  readonly proc: cp.ChildProcessWithoutNullStreams;
  readonly conn: MessageConnection;
  readonly api: ContainaiApi;
  readonly changes: ContainerChangedParams[] = [];
  readonly engine: EngineStatusParams[] = [];
  readonly progress: Progress[] = [];
  readonly confirmations: Array<{ message: string; actions: string[] }> = [];
  stderr = '';
  /** what the fake user answers to window/showMessageRequest (undefined = dismiss) */
  answer: ((message: string, actions: string[]) => string | undefined) | undefined;
  private waiters: Array<() => void> = [];

  constructor(env: Record<string, string>, cwd: string) {
    const [cmd, ...args] = serverCommand();
    this.proc = cp.spawn(cmd!, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.conn = createMessageConnection(new StreamMessageReader(this.proc.stdout), new StreamMessageWriter(this.proc.stdin));
    this.conn.onNotification(Notifications.containerChanged, (p: ContainerChangedParams) => this.push(() => this.changes.push(p)));
    this.conn.onNotification(Notifications.engineStatus, (p: EngineStatusParams) => this.push(() => this.engine.push(p)));
    this.conn.onNotification('$/progress', (p: Progress) => this.push(() => this.progress.push(p)));
    this.conn.onNotification('window/logMessage', () => undefined);
    this.conn.onNotification('window/showMessage', () => undefined);
    this.conn.onRequest('window/workDoneProgress/create', () => null);
    this.conn.onRequest('window/showMessageRequest', (p: { message: string; actions?: Array<{ title: string }> }) => {
      const actions = (p.actions ?? []).map((a) => a.title);
      this.confirmations.push({ message: p.message, actions });
      const pick = this.answer?.(p.message, actions);
      return pick === undefined ? null : { title: pick };
    });
    this.conn.listen();
    this.api = new ContainaiApi(this.conn as unknown as RpcSender);
  }

  private push(fn: () => void): void {
    fn();
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `pred` holds, re-checked on every message; rejects after `ms`. */
  waitFor<T>(what: string, pred: () => T | undefined | false, ms = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const v = pred();
        if (v !== undefined && v !== false) {
          clearTimeout(timer);
          resolve(v);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; stderr:\n${this.stderr.slice(-2000)}`)), ms);
      const loop = (): void => {
        if (!check()) this.waiters.push(loop);
      };
      loop();
    });
  }

  async initialize(rootPath: string): Promise<{ capabilities: { experimental?: { containai?: { protocolVersion: string; serverVersion: string; features: string[] } } } }> {
    const result = await this.conn.sendRequest('initialize', {
      processId: process.pid,
      clientInfo: { name: 'containai-ext-test' },
      rootUri: `file://${rootPath}`,
      capabilities: { window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: false } } } },
      initializationOptions: { containai: { protocolVersion: PROTOCOL_VERSION } },
    });
    await this.conn.sendNotification('initialized', {});
    return result as never;
  }

  async shutdown(): Promise<void> {
    try {
      await Promise.race([this.conn.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 3000))]);
      await this.conn.sendNotification('exit');
    } catch {
      // already gone
    }
    await new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return resolve();
      const t = setTimeout(() => {
        this.proc.kill('SIGKILL');
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.conn.dispose();
  }
}

/** Removes every container labelled with this workspace (tests clean up what they create). */
export function removeContainersOf(workspace: string): void {
  try {
    const ids = cp
      .execFileSync('docker', ['ps', '-aq', '--filter', 'label=containai.managed=true', '--filter', `label=containai.workspace=${workspace}`], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    if (ids.length) cp.execFileSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  } catch {
    // the engine may be unreachable in a failing run; nothing to clean then
  }
}
