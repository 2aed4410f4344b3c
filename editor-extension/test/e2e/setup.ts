/**
 * The e2e's private world: a scratch HOME/XDG, code-server's user data and settings, the
 * workspace (a git repository), a Docker config folder with a second, dead context, and
 * cleanup of every container and volume the run created (by its workspaces' labels).
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const EXT_ROOT = path.resolve(__dirname, '..', '..', '..');
const REPO_ROOT = path.resolve(EXT_ROOT, '..');
export const IMAGE = process.env.CONTAINAI_E2E_IMAGE ?? 'containai:latest';
export const SERVER = process.env.CONTAINAI_RPC_SERVER ?? path.join(REPO_ROOT, '.venv', 'bin', 'containai-rpc');
/** The dead second context of the two-context step. */
export const DEAD_CONTEXT = 'far';
/** The default data volume: shared by every workspace, never removed here. */
export const SHARED_VOLUME = 'containai-data';

export function docker(...args: string[]): string {
  return cp.execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function containersOf(ws: string): string[] {
  return docker('ps', '-aq', '--filter', 'label=containai.managed=true', '--filter', `label=containai.workspace=${ws}`).split('\n').filter(Boolean);
}

/** id, state and data volume of a container, from the engine itself. */
export function inspect(nameOrId: string): { id: string; state: string; volume: string } {
  const [id, state, volume] = docker('inspect', '-f', '{{.Id}} {{.State.Status}} {{index .Config.Labels "containai.data-volume"}}', nameOrId).split(' ');
  return { id: id!, state: state!, volume: volume ?? '' };
}

export function volumeExists(name: string): boolean {
  try {
    docker('volume', 'inspect', name);
    return true;
  } catch {
    return false;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function makeGitWorkspace(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# e2e workspace\n');
  const env = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid' };
  for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'init']]) cp.execFileSync('git', args, { cwd: dir, env, stdio: 'ignore' });
}

export interface E2eEnv {
  scratch: string;
  home: string;
  ws: string;
  /** a second workspace whose stopped container garbage collection removes */
  otherWs: string;
  userData: string;
  extDir: string;
  /** code-server's (and so the extension host's and the server's) environment */
  env: NodeJS.ProcessEnv;
  /** the server's environment as the extension passes it (for `cai` run from the test) */
  serverEnv: Record<string, string>;
  /** ContainAI's user config file of the scratch HOME */
  containaiConfig: string;
  /** a volume this run created, removed at the end */
  trackVolume(name: string): void;
  /** an image this run built (a template's), removed at the end */
  trackImage(id: string): void;
  cleanup(): string;
}

/**
 * Claim the scratch folder for this process (pid and its kernel start time, field 22 of
 * /proc/<pid>/stat): the project's leftovers reaper (tests/support/leftovers.py, run before
 * the e2e) removes containers of scratch folders whose owner is gone, a killed run's.
 */
function claimScratch(scratch: string): void {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const started = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/)[19];
  fs.writeFileSync(path.join(scratch, '.cai-test-owner'), `${process.pid} ${started}\n`);
}

export function makeEnvironment(scratch: string, node24: string, dockerHost: string): E2eEnv {
  claimScratch(scratch);
  const home = path.join(scratch, 'home');
  const userData = path.join(scratch, 'user-data');
  const extDir = path.join(scratch, 'extensions');
  const dockerConfig = path.join(scratch, 'docker-config');
  // the repo name becomes the container name: short and unique
  const tag = path.basename(scratch).slice(-5).toLowerCase().replace(/[^a-z0-9]/g, 'x');
  const ws = path.join(scratch, `e2e${tag}`);
  const otherWs = path.join(scratch, `old${tag}`);
  for (const d of [home, path.join(home, '.config'), path.join(home, '.local/share'), path.join(home, '.cache'), path.join(userData, 'User'), path.join(userData, 'Machine'), extDir, dockerConfig]) fs.mkdirSync(d, { recursive: true });
  makeGitWorkspace(ws);
  makeGitWorkspace(otherWs);
  // a second context whose engine never answers
  docker('--config', dockerConfig, 'context', 'create', DEAD_CONTEXT, '--docker', `host=unix://${scratch}/nowhere.sock`);
  const xdg = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.local/share'), XDG_CACHE_HOME: path.join(home, '.cache'), XDG_STATE_HOME: path.join(home, '.local/state') };
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(node24, 'bin')}:${process.env.PATH}`, ...xdg };
  const serverEnv: Record<string, string> = { CONTAINAI_ALLOW_REDUCED_ISOLATION: '1', CONTAINAI_IMAGE: IMAGE, DOCKER_HOST: dockerHost, DOCKER_CONFIG: dockerConfig };
  // the extension host of code-server is "remote": machine-scoped settings are read from
  // Machine/settings.json, the rest from User/settings.json
  const containai = { 'containai.serverCommand': SERVER, 'containai.serverEnv': serverEnv };
  fs.writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify(containai, null, 2));
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        ...containai,
        // fast enough for a chart with a few points within the run
        'containai.resources.refreshSeconds': 2,
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.welcomePage.walkthroughs.openOnInstall': false,
        'extensions.ignoreRecommendations': true,
        'extensions.autoCheckUpdates': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'chat.disableAIFeatures': true,
        'workbench.colorTheme': 'Default Dark Modern',
        // no fade-ins: a short-lived progress notification is fully drawn when it is shot
        'workbench.reduceMotion': 'on',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'window.restoreWindows': 'none',
        'terminal.integrated.enablePersistentSessions': false,
        // code-server offers to forward the containers' ssh ports: not what is tested here
        'remote.autoForwardPorts': false,
      },
      null,
      2,
    ),
  );
  const volumes = new Set<string>();
  const images = new Set<string>();
  return {
    scratch,
    home,
    ws,
    otherWs,
    userData,
    extDir,
    env,
    serverEnv: { ...serverEnv, ...xdg },
    containaiConfig: path.join(home, '.config', 'containai', 'config.toml'),
    trackVolume: (name) => void (name && volumes.add(name)),
    trackImage: (id) => void (id && images.add(id)),
    cleanup: () => {
      const ids = [...containersOf(ws), ...containersOf(otherWs)];
      if (ids.length) docker('rm', '-f', ...ids);
      // only the volumes this run made (Reset's); the default one is shared with every workspace
      const gone = [...volumes].filter((v) => v && v !== SHARED_VOLUME).filter((v) => {
        try {
          docker('volume', 'rm', v);
          return true;
        } catch {
          return false;
        }
      });
      const imagesGone = [...images].filter((i) => {
        try {
          docker('rmi', '-f', i);
          return true;
        } catch {
          return false;
        }
      });
      return `${ids.length} container(s), ${gone.length} volume(s), ${imagesGone.length} image(s)`;
    },
  };
}
