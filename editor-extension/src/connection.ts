/**
 * The connection to the containai-rpc server: the language client's lifecycle, the
 * notifications it feeds into the store, re-lists, and the context keys menus use.
 *
 * The tree and the status bar never poll: they follow `containai/containerChanged` and
 * `containai/engineStatus`; we re-list on a revision gap, after a (re)start of the server,
 * after the engine recovers, and when the view becomes visible.
 */
import * as vscode from 'vscode';
import { WorkDoneProgress, type LanguageClient, type WorkDoneProgressBegin, type WorkDoneProgressEnd, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import { Notifications, PROTOCOL_VERSION, type ContainerChangedParams, type EngineStatusParams, type IdleWarning } from './protocol';
import { ContainaiApi } from './rpc';
import { ContainerStore, stripStatus } from './model/store';
import { describeError, reasonOf } from './model/errors';
import { createClient, serverCapabilities, State } from './server';
import { dockerContext, workspacePath } from './settings';

export type ProgressValue = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class Connection implements vscode.Disposable {
  readonly store: ContainerStore;
  readonly output: vscode.OutputChannel;
  private client: LanguageClient | undefined;
  private api: ContainaiApi | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private listing: Promise<void> | undefined;
  private listAgain = false;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private gaveUp = false;
  private readonly contextKeys = new Map<string, boolean>();

  /**
   * @param onFatal shows a server failure to the user (with Show Log / Restart buttons)
   * @param onIdleWarning a container is about to stop itself, unused
   */
  constructor(
    private readonly onFatal: (message: string) => void,
    private readonly onIdleWarning: (p: IdleWarning) => void = () => undefined,
  ) {
    this.output = vscode.window.createOutputChannel('ContainAI Server');
    this.store = new ContainerStore(workspacePath());
    this.store.setWorkspaceContext(dockerContext());
    this.disposables.push(
      this.output,
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.store.setWorkspacePath(workspacePath());
        void this.learnWorkspaceContainer();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['containai.serverCommand', 'containai.pythonPath', 'containai.serverEnv', 'containai.sharedServer'].some((k) => e.affectsConfiguration(k))) {
          void this.restart();
        } else if (e.affectsConfiguration('containai.dockerContext')) {
          this.store.setWorkspaceContext(dockerContext());
          void this.relist();
        }
      }),
    );
    this.store.onDidChange(() => this.updateContextKeys());
  }

  // ---- lifecycle ---------------------------------------------------------------------

  async start(): Promise<void> {
    this.gaveUp = false;
    this.store.setServerState('starting');
    const client = createClient(this.output, (msg) => {
      this.gaveUp = true;
      this.store.setServerState('failed', msg);
      this.onFatal(msg);
    });
    this.client = client;
    this.api = new ContainaiApi(client);
    this.clientDisposables.push(
      client.onNotification(Notifications.containerChanged, (p: ContainerChangedParams) => this.onContainerChanged(p)),
      client.onNotification(Notifications.engineStatus, (p: EngineStatusParams) => this.onEngineStatus(p)),
      client.onNotification(Notifications.idleWarning, (p: IdleWarning) => this.onIdleWarning(p)),
      client.onDidChangeState((e) => {
        if (e.newState === State.Running) {
          this.store.setServerState('running');
          void this.afterServerStart();
        } else if (e.newState === State.Starting) {
          this.store.setServerState('starting');
        } else if (e.newState === State.Stopped && !this.gaveUp) {
          this.store.setServerState('stopped', 'restarting…');
        }
      }),
    );
    try {
      await client.start();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.store.setServerState('failed', msg);
      this.output.appendLine(`[containai] server failed to start: ${msg}`);
      this.onFatal(`ContainAI: the containai-rpc server could not be started: ${msg}`);
    }
  }

  private async afterServerStart(): Promise<void> {
    const caps = this.client ? serverCapabilities(this.client) : undefined;
    if (caps) {
      this.output.appendLine(`[containai] server ${caps.serverVersion}, protocol ${caps.protocolVersion}, features: ${caps.features.join(', ')}`);
      if (caps.protocolVersion.split('.')[0] !== PROTOCOL_VERSION.split('.')[0]) {
        void vscode.window.showWarningMessage(`ContainAI: the server speaks protocol ${caps.protocolVersion}, this extension ${PROTOCOL_VERSION}. Update the one that is older.`);
      }
    } else {
      this.output.appendLine('[containai] the server did not announce capabilities.experimental.containai');
    }
    await this.relist();
    await this.learnWorkspaceContainer();
  }

  async restart(): Promise<void> {
    await this.stopClient();
    await this.start();
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.api = undefined;
    for (const d of this.clientDisposables.splice(0)) d.dispose();
    if (client) {
      try {
        await client.stop(2000);
      } catch {
        // already dead
      }
      await client.dispose().catch(() => undefined);
    }
  }

  dispose(): void {
    void this.stopClient();
    if (this.gapTimer) clearTimeout(this.gapTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** The typed API while the server runs; otherwise a `serverNotRunning` error. */
  requireApi(): ContainaiApi {
    if (!this.api || this.store.serverState !== 'running') {
      throw Object.assign(new Error('the containai-rpc server is not running'), { data: { reason: 'serverNotRunning' } });
    }
    return this.api;
  }

  /** `$/progress` values for a work-done token we passed with a request. */
  onProgress(token: string, handler: (v: ProgressValue) => void): vscode.Disposable | undefined {
    return this.client?.onProgress(WorkDoneProgress.type, token, handler);
  }

  // ---- inputs from the server --------------------------------------------------------

  private onContainerChanged(p: ContainerChangedParams): void {
    const { gap } = this.store.applyChange(p);
    if (gap) this.scheduleRelist();
  }

  private onEngineStatus(p: EngineStatusParams): void {
    const wasDown = p.health !== 'error' && (this.store.engineOf(p.context)?.health === 'error' || this.store.listErrors.some((e) => e.context === p.context));
    this.store.applyEngineStatus(p);
    if (p.health !== 'error' && (this.store.listError !== undefined || wasDown)) void this.relist();
  }

  private scheduleRelist(): void {
    if (this.gapTimer) return;
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      void this.relist();
    }, 100);
  }

  /** Single-flight `containai/list`; a call while one runs makes it run once more. */
  relist(): Promise<void> {
    if (this.listing) {
      this.listAgain = true;
      return this.listing;
    }
    const run = async (): Promise<void> => {
      do {
        this.listAgain = false;
        const api = this.api;
        if (!api || this.store.serverState !== 'running') return;
        try {
          this.store.applyList(await api.list({ context: dockerContext() }));
        } catch (err) {
          this.output.appendLine(`[containai] list failed: ${describeError(err, 'Listing containers').message}`);
          this.store.setListError((err as { message?: string })?.message ?? String(err));
        }
      } while (this.listAgain);
    };
    this.listing = run().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  /** Learns the workspace container's name and context (for matching, the status bar, the "absent" tooltip). */
  async learnWorkspaceContainer(): Promise<void> {
    const ws = this.store.workspacePath;
    const api = this.api;
    if (!ws || !api) return;
    try {
      const st = await api.status({ workspace: ws, context: dockerContext() });
      this.store.setWorkspaceContainerName(st.name);
      this.store.setWorkspaceContext(st.context);
      this.store.upsert(stripStatus(st));
      return;
    } catch (err) {
      if (reasonOf(err) !== 'containerNotFound') return;
    }
    try {
      const plan = await api.run({ workspace: ws, dryRun: true, context: dockerContext() });
      this.store.setWorkspaceContainerName(plan.containerName);
      this.store.setWorkspaceContext(plan.context);
    } catch {
      // a dry run that cannot plan (e.g. engine down) is not worth a message
    }
  }

  private updateContextKeys(): void {
    const s = this.store;
    const keys: Array<[string, boolean]> = [
      ['containai.serverRunning', s.serverState === 'running'],
      ['containai.ready', s.serverState === 'running' && s.loaded && !s.engineDown],
      ['containai.engineDown', s.engineDown],
    ];
    for (const [k, v] of keys) {
      if (this.contextKeys.get(k) === v) continue;
      this.contextKeys.set(k, v);
      void vscode.commands.executeCommand('setContext', k, v);
    }
  }
}
