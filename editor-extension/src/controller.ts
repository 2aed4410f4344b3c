/**
 * Wires the language client to the store, the tree and the status bar, and implements the
 * commands. The tree and the status bar never poll: they follow `containai/containerChanged`
 * and `containai/engineStatus`; we re-list on a revision gap, after a (re)start of the
 * server, after the engine recovers, and when the view becomes visible.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { WorkDoneProgress, type LanguageClient, type WorkDoneProgressBegin, type WorkDoneProgressReport } from 'vscode-languageclient/node';
import { METHOD_NOT_FOUND, Notifications, PROTOCOL_VERSION, type DoctorResult, type ContainerChangedParams, type ContainerSummary, type EngineStatusParams, type GcResult, type RunParams, type RunResult, type StatusResult, type StopResult } from './protocol';
import { ContainaiApi } from './rpc';
import { ContainerStore } from './model/store';
import { actionsFor, actionSpec, type ActionId } from './model/format';
import { describeError, reasonOf } from './model/errors';
import { createClient, serverCapabilities, State } from './server';
import type { TreeNode } from './tree';

export type Target = { kind: 'container'; container: ContainerSummary } | { kind: 'workspace'; workspace: string };

const COMMAND_OF: Record<ActionId, string> = {
  run: 'containai.run',
  start: 'containai.run',
  stop: 'containai.stop',
  fresh: 'containai.fresh',
  status: 'containai.status',
  stopAndRemove: 'containai.stopAndRemove',
  reset: 'containai.reset',
  keep: 'containai.keep',
  unkeep: 'containai.unkeep',
  openShell: 'containai.openShell',
  openRemoteSsh: 'containai.openRemoteSsh',
  copySshCommand: 'containai.copySshCommand',
  doctor: 'containai.doctor',
  showServerLog: 'containai.showServerLog',
  restartServer: 'containai.restartServer',
};

export class Controller implements vscode.Disposable {
  readonly store: ContainerStore;
  readonly output: vscode.OutputChannel;
  private client: LanguageClient | undefined;
  private api: ContainaiApi | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private clientDisposables: vscode.Disposable[] = [];
  private listing: Promise<void> | undefined;
  private listAgain = false;
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  private progressSeq = 0;
  private gaveUp = false;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('ContainAI Server');
    this.store = new ContainerStore(workspacePath());
    this.disposables.push(
      this.output,
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.store.setWorkspacePath(workspacePath());
        void this.learnWorkspaceContainer();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (['containai.serverCommand', 'containai.pythonPath', 'containai.serverEnv'].some((k) => e.affectsConfiguration(k))) {
          void this.restartServer();
        } else if (e.affectsConfiguration('containai.dockerContext')) {
          void this.relist();
        }
      }),
    );
    this.store.onDidChange(() => this.updateContextKeys());
  }

  // ---- server lifecycle --------------------------------------------------------------

  async start(): Promise<void> {
    this.gaveUp = false;
    this.store.setServerState('starting');
    const client = createClient(this.output, (msg) => {
      this.gaveUp = true;
      this.store.setServerState('failed', msg);
      void this.showError(msg, ['showServerLog', 'restartServer']);
    });
    this.client = client;
    this.api = new ContainaiApi(client);
    this.clientDisposables.push(
      client.onNotification(Notifications.containerChanged, (p: ContainerChangedParams) => this.onContainerChanged(p)),
      client.onNotification(Notifications.engineStatus, (p: EngineStatusParams) => this.onEngineStatus(p)),
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
      void this.showError(`ContainAI: the containai-rpc server could not be started: ${msg}`, ['showServerLog', 'restartServer']);
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

  async restartServer(): Promise<void> {
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

  // ---- inputs from the server --------------------------------------------------------

  private onContainerChanged(p: ContainerChangedParams): void {
    const { gap } = this.store.applyChange(p);
    if (gap) this.scheduleRelist();
  }

  private onEngineStatus(p: EngineStatusParams): void {
    const wasDown = this.store.engineDown;
    this.store.applyEngineStatus(p);
    if (p.health !== 'error') {
      if (this.store.listError !== undefined || wasDown) void this.relist();
    }
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
          const result = await api.list({ context: dockerContext() });
          this.store.applyList(result);
        } catch (err) {
          const e = describeError(err, 'Listing containers');
          this.output.appendLine(`[containai] list failed: ${e.message}`);
          this.store.setListError((err as { message?: string })?.message ?? String(err));
        }
      } while (this.listAgain);
    };
    this.listing = run().finally(() => {
      this.listing = undefined;
    });
    return this.listing;
  }

  /** Learns the workspace container's name (for matching and the "absent" tooltip). */
  private async learnWorkspaceContainer(): Promise<void> {
    const ws = this.store.workspacePath;
    const api = this.api;
    if (!ws || !api) return;
    try {
      const st = await api.status({ workspace: ws, context: dockerContext() });
      this.store.setWorkspaceContainerName(st.name);
      this.store.upsert(stripStatus(st));
      return;
    } catch (err) {
      if (reasonOf(err) !== 'containerNotFound') return;
    }
    try {
      const plan = await api.run({ workspace: ws, dryRun: true, context: dockerContext() });
      this.store.setWorkspaceContainerName(plan.containerName);
    } catch {
      // a dry run that cannot plan (e.g. engine down) is not worth a message
    }
  }

  // ---- UI helpers --------------------------------------------------------------------

  private readonly contextKeys = new Map<string, boolean>();

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

  private requireApi(): ContainaiApi {
    if (!this.api || this.store.serverState !== 'running') {
      throw Object.assign(new Error('the containai-rpc server is not running'), { data: { reason: 'serverNotRunning' } });
    }
    return this.api;
  }

  /**
   * Runs one of our own operations; if the server sent no containerChanged while it ran,
   * re-lists once when it is done (a reconcile after a user action, not a poll).
   */
  private async reconciling<T>(fn: () => PromiseLike<T>): Promise<T> {
    const before = this.store.revision;
    try {
      return await fn();
    } finally {
      if (this.store.revision === before) void this.relist();
    }
  }

  /** A progress notification fed by the server's `$/progress` for a token we pass. */
  private withProgress<T>(title: string, fn: (token: string, ct: vscode.CancellationToken) => Promise<T>): Thenable<T> {
    const token = `containai-${process.pid}-${++this.progressSeq}`;
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, ct) => {
      let last = 0;
      const client = this.client;
      const sub = client?.onProgress(WorkDoneProgress.type, token, (v) => {
        if (v.kind === 'end') {
          if (v.message) progress.report({ message: v.message });
          return;
        }
        const val = v as WorkDoneProgressBegin | WorkDoneProgressReport;
        const increment = typeof val.percentage === 'number' ? Math.max(0, val.percentage - last) : undefined;
        if (typeof val.percentage === 'number') last = val.percentage;
        progress.report({ message: val.message, increment });
      });
      try {
        return await fn(token, ct);
      } finally {
        sub?.dispose();
      }
    });
  }

  private async showError(message: string, actions: ActionId[]): Promise<void> {
    const picked = await vscode.window.showErrorMessage(message, ...actions.map((a) => actionSpec(a).label.replace(/^\$\([^)]*\)\s*/, '')));
    if (!picked) return;
    const id = actions.find((a) => actionSpec(a).label.endsWith(picked));
    if (id) await vscode.commands.executeCommand(COMMAND_OF[id]);
  }

  private async reportError(err: unknown, what: string): Promise<void> {
    const e = describeError(err, what);
    this.output.appendLine(`[containai] ${e.message}${e.reason ? ` (${e.reason})` : ''}`);
    if (e.quiet) return;
    // not awaited: the notification stays until dismissed, the operation is over now
    void this.showError(`ContainAI: ${e.message}`, e.actions);
  }

  /** From a tree row, or (palette / status bar) the current workspace. */
  resolveTarget(arg: unknown): Target | undefined {
    const node = arg as TreeNode | undefined;
    if (node && typeof node === 'object' && node.kind === 'container') return { kind: 'container', container: node.container };
    const ws = this.store.workspacePath;
    if (ws) return { kind: 'workspace', workspace: ws };
    void vscode.window.showWarningMessage('ContainAI: open a folder first — containers belong to a workspace folder.');
    return undefined;
  }

  private isWorkspaceTarget(t: Target): boolean {
    return t.kind === 'workspace' || this.store.isCurrent(t.container);
  }

  private targetParams(t: Target): { workspace?: string; container?: string; context?: string } {
    if (t.kind === 'workspace') return { workspace: t.workspace, context: dockerContext() };
    return { container: t.container.name, context: t.container.context };
  }

  private targetName(t: Target): string {
    if (t.kind === 'container') return t.container.name;
    return this.store.current()?.name ?? this.store.workspaceContainerName ?? 'this workspace\'s container';
  }

  private containerOf(t: Target): ContainerSummary | undefined {
    return t.kind === 'container' ? t.container : this.store.current();
  }

  // ---- commands ----------------------------------------------------------------------

  async run(arg?: unknown, mode: 'run' | 'fresh' | 'reset' = 'run', extra: Partial<RunParams> = {}): Promise<RunResult | undefined> {
    const t = this.resolveTarget(arg);
    if (!t) return undefined;
    const name = this.targetName(t);
    const existing = this.containerOf(t);
    if (mode === 'fresh' && existing) {
      const answer = await vscode.window.showWarningMessage(
        `Recreate ${name}?`,
        {
          modal: true,
          detail: `The container is removed and created again from its image. Kept: the data volume (${existing.dataVolume ?? 'the current one'}) and the workspace folder. Lost: changes made elsewhere in the container (installed packages, files outside the volume and the workspace).`,
        },
        'Fresh',
      );
      if (answer !== 'Fresh') return undefined;
    }
    if (mode === 'reset') {
      const vol = existing?.dataVolume ?? 'the current data volume';
      const answer = await vscode.window.showWarningMessage(
        `Reset ${name}?`,
        {
          modal: true,
          detail: `The container is removed and recreated with a NEW, empty data volume. The old volume (${vol}) is kept but no longer used — nothing is deleted, and you can still find it with "docker volume ls".`,
        },
        'Reset',
      );
      if (answer !== 'Reset') return undefined;
    }
    const params: RunParams = {
      ...(t.kind === 'container' && t.container.workspace ? { workspace: t.container.workspace, context: t.container.context } : this.targetParams(t)),
      ...(mode === 'fresh' ? { fresh: true } : {}),
      ...(mode === 'reset' ? { reset: true } : {}),
      ...extra,
    };
    const verb = mode === 'run' ? (existing && existing.status !== 'running' ? 'Starting' : 'Running') : mode === 'fresh' ? 'Recreating' : 'Resetting';
    const pendingLabel = mode === 'run' ? 'starting…' : mode === 'fresh' ? 'recreating…' : 'resetting…';
    const mine = this.isWorkspaceTarget(t);
    if (mine) this.store.setPending({ label: pendingLabel, container: existing?.name });
    try {
      const api = this.requireApi();
      const result = await this.reconciling(() => this.withProgress(`ContainAI: ${verb} ${name}`, (workDoneToken, ct) => api.run({ ...params, workDoneToken }, ct)));
      if (result.container) this.store.upsert(result.container);
      if (mine) this.store.setWorkspaceContainerName(result.containerName);
      for (const w of result.warnings ?? []) this.output.appendLine(`[containai] warning: ${w}`);
      const what = { create: 'created and started', start: 'started', attach: 'already running', recreate: 'recreated' }[result.action] ?? result.action;
      const buttons = result.ssh ? ['Open Shell', 'Copy SSH Command'] : [];
      void vscode.window.showInformationMessage(`ContainAI: ${result.containerName} ${what}${result.isolation === 'runc-reduced' ? ' (reduced isolation)' : ''}.`, ...buttons).then((b) => {
        if (b === 'Open Shell') void this.openShell({ kind: 'container', container: result.container ?? syntheticSummary(result), current: true } satisfies TreeNode);
        if (b === 'Copy SSH Command' && result.ssh) void vscode.env.clipboard.writeText(result.ssh.command);
      });
      return result;
    } catch (err) {
      if (reasonOf(err) === 'isolationUnavailable' && !extra.allowReducedIsolation) {
        if (mine) this.store.setPending(undefined);
        const b = await vscode.window.showErrorMessage(
          `ContainAI: ${(err as Error).message}`,
          { detail: 'Sysbox is not available on this engine.' },
          'Run with Reduced Isolation',
          'Run Doctor',
        );
        if (b === 'Run with Reduced Isolation') return this.run(arg, mode, { ...extra, allowReducedIsolation: true });
        if (b === 'Run Doctor') await this.doctor();
        return undefined;
      }
      const data = (err as { data?: { approvable?: unknown; volume?: unknown } }).data;
      if (reasonOf(err) === 'volumeNotApproved' && data?.approvable === true && !extra.approveVolume) {
        // As git asks before trusting a repository: the repository chose a volume ContainAI did not create.
        if (mine) this.store.setPending(undefined);
        const b = await vscode.window.showWarningMessage(
          `ContainAI: ${(err as Error).message}`,
          { modal: true, detail: `Use data volume '${String(data.volume)}' for this workspace? The approval is remembered for it.` },
          'Use This Volume',
        );
        if (b === 'Use This Volume') return this.run(arg, mode, { ...extra, approveVolume: true });
        return undefined;
      }
      await this.reportError(err, `${verb} ${name}`);
      return undefined;
    } finally {
      if (mine) this.store.setPending(undefined);
    }
  }

  async stop(arg?: unknown, remove = false): Promise<StopResult | undefined> {
    const t = this.resolveTarget(arg);
    if (!t) return undefined;
    const name = this.targetName(t);
    const existing = this.containerOf(t);
    if (remove) {
      const answer = await vscode.window.showWarningMessage(
        `Stop and remove ${name}?`,
        { modal: true, detail: `The container is removed. Its data volume${existing?.dataVolume ? ` (${existing.dataVolume})` : ''} is kept; "ContainAI: Run" creates a new container that uses it again.` },
        'Stop and Remove',
      );
      if (answer !== 'Stop and Remove') return undefined;
    }
    const mine = this.isWorkspaceTarget(t);
    if (mine) this.store.setPending({ label: remove ? 'removing…' : 'stopping…', container: existing?.name });
    try {
      const api = this.requireApi();
      const result = await this.reconciling(() =>
        this.withProgress(`ContainAI: ${remove ? 'Removing' : 'Stopping'} ${name}`, (_token, ct) =>
          // StopParams has no workDoneToken (yet): the notification shows the title and a spinner
          api.stop({ ...this.targetParams(t), ...(remove ? { remove: true } : {}) }, ct),
        ),
      );
      for (const r of result.results) {
        if (r.action === 'notFound') void vscode.window.showInformationMessage(`ContainAI: ${r.containerName || name} — no such container.`);
        else if (r.action === 'failed') void this.showError(`ContainAI: ${r.containerName}: ${r.message ?? 'failed'}`, ['showServerLog']);
        else if (r.action === 'alreadyStopped') void vscode.window.showInformationMessage(`ContainAI: ${r.containerName} was already stopped.`);
      }
      return result;
    } catch (err) {
      await this.reportError(err, `${remove ? 'Removing' : 'Stopping'} ${name}`);
      return undefined;
    } finally {
      if (mine) this.store.setPending(undefined);
    }
  }

  /** "Back Up Data Volume…": containai/export of the container's data volume to a chosen file. */
  async backUp(arg?: unknown): Promise<string | undefined> {
    const t = this.resolveTarget(arg);
    if (!t) return undefined;
    const name = this.targetName(t);
    const uri = await vscode.window.showSaveDialog({
      title: `Back up the data volume of ${name}`,
      saveLabel: 'Back Up',
      defaultUri: vscode.Uri.file(path.join(os.homedir(), `${name}-data.tgz`)),
      filters: { 'Backup archive': ['tgz'] },
    });
    if (!uri) return undefined;
    try {
      const api = this.requireApi();
      // The save dialog has already asked before replacing an existing file.
      const result = await this.withProgress(`ContainAI: Backing up ${name}`, (_token, ct) =>
        api.exportVolume({ ...this.targetParams(t), output: uri.fsPath, force: true }, ct),
      );
      void vscode.window.showInformationMessage(`ContainAI: Data volume ${result.dataVolume} backed up to ${result.path}.`);
      return result.path;
    } catch (err) {
      await this.reportError(err, `Backing up ${name}`);
      return undefined;
    }
  }

  async status(arg?: unknown): Promise<StatusResult | undefined> {
    const t = this.resolveTarget(arg);
    if (!t) return undefined;
    try {
      const st = await this.requireApi().status(this.targetParams(t));
      this.store.upsert(stripStatus(st));
      const lines = [
        `State: ${st.status}${st.uptime ? ` — up ${st.uptime}` : ''}`,
        `Workspace: ${st.workspace ?? '—'}`,
        `Image: ${st.image}`,
        `Data volume: ${st.dataVolume ?? '—'}`,
        `SSH: ${st.sshPort !== undefined ? `127.0.0.1:${st.sshPort} (ssh ${st.name})` : '—'}`,
        `Sessions: ${st.sessions ? `${st.sessions.sshConnections} ssh, ${st.sessions.activeTerminals} terminals` : st.sessionsKnown === false ? 'unknown' : '—'}`,
        `Memory: ${st.resources?.memoryText ?? '—'}`,
        `CPU: ${st.resources?.cpuPercent !== undefined ? `${st.resources.cpuPercent.toFixed(1)} %` : '—'}`,
        `Keep: ${st.keep ? 'yes' : 'no'}`,
        `Isolation: ${st.isolation ?? '—'}`,
        `Context: ${st.context}`,
      ];
      if (st.partial?.length) lines.push(`(partial: ${st.partial.join(', ')} took too long)`);
      this.output.appendLine(`[containai] status ${st.name}\n  ${lines.join('\n  ')}`);
      void vscode.window.showInformationMessage(`ContainAI: ${st.name}`, { modal: true, detail: lines.join('\n') });
      return st;
    } catch (err) {
      await this.reportError(err, `Status of ${this.targetName(t)}`);
      return undefined;
    }
  }

  async setKeep(arg: unknown, keep: boolean): Promise<void> {
    const t = this.resolveTarget(arg);
    if (!t) return;
    try {
      const api = this.requireApi();
      const res = await this.reconciling(() => api.keep({ ...this.targetParams(t), keep }));
      const how = res.keep
        ? `kept (garbage collection skips it${res.source === 'label' ? '; set at creation' : ''})`
        : res.source === 'label'
          ? 'still kept: its creation-time label cannot be removed'
          : 'no longer kept';
      void vscode.window.showInformationMessage(`ContainAI: ${res.containerName} is ${how}.`);
    } catch (err) {
      await this.reportError(err, keep ? 'Keep' : 'Unkeep');
    }
  }

  private sshHost(t: Target): string | undefined {
    const c = this.containerOf(t);
    if (!c) {
      void vscode.window.showWarningMessage('ContainAI: this workspace has no container yet. Run one first.');
      return undefined;
    }
    if (c.sshPort === undefined) {
      void vscode.window.showWarningMessage(`ContainAI: ${c.name} has no SSH endpoint (its image runs no sshd).`);
      return undefined;
    }
    if (c.status !== 'running') {
      void vscode.window.showWarningMessage(`ContainAI: ${c.name} is ${c.status}. Start it first.`);
      return undefined;
    }
    return c.name;
  }

  async openShell(arg?: unknown): Promise<void> {
    const t = this.resolveTarget(arg);
    if (!t) return;
    const host = this.sshHost(t);
    if (!host) return;
    const term = vscode.window.createTerminal({ name: `ContainAI: ${host}`, shellPath: 'ssh', shellArgs: [host] });
    term.show();
  }

  async openRemoteSsh(arg?: unknown): Promise<void> {
    const t = this.resolveTarget(arg);
    if (!t) return;
    const host = this.sshHost(t);
    if (!host) return;
    if (!vscode.extensions.getExtension('ms-vscode-remote.remote-ssh')) {
      const b = await vscode.window.showWarningMessage('ContainAI: "Open in Remote-SSH" needs the Remote - SSH extension.', 'Copy SSH Command');
      if (b) await vscode.env.clipboard.writeText(`ssh ${host}`);
      return;
    }
    const uri = vscode.Uri.parse(`vscode-remote://ssh-remote+${encodeURIComponent(host)}/home/agent/workspace`);
    await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
  }

  async copySshCommand(arg?: unknown): Promise<void> {
    const t = this.resolveTarget(arg);
    if (!t) return;
    const c = this.containerOf(t);
    if (!c) {
      void vscode.window.showWarningMessage('ContainAI: this workspace has no container yet.');
      return;
    }
    const cmd = `ssh ${c.name}`;
    await vscode.env.clipboard.writeText(cmd);
    void vscode.window.showInformationMessage(`ContainAI: copied "${cmd}".`);
  }

  async gc(): Promise<void> {
    const age = await vscode.window.showInputBox({
      title: 'ContainAI: Garbage Collect',
      prompt: 'Remove stopped containers older than (N followed by d, h, m or w). Running and kept containers, and all volumes, are never removed. A dry run comes first.',
      value: '30d',
      validateInput: (v) => (/^\s*\d+(\.\d+)?\s*[dhmw]\s*$/.test(v) ? undefined : 'e.g. 30d, 12h, 2w'),
    });
    if (age === undefined) return;
    let plan: GcResult;
    try {
      const api = this.requireApi();
      plan = await this.withProgress('ContainAI: Looking for stale containers (dry run)', (workDoneToken, ct) => api.gc({ dryRun: true, age: age.trim(), workDoneToken }, ct));
    } catch (err) {
      await this.reportError(err, 'Garbage collection (dry run)');
      return;
    }
    for (const e of plan.errors ?? []) this.output.appendLine(`[containai] gc: context ${e.context}: ${e.message}`);
    const items = gcItems(plan);
    if (items.length === 0) {
      const skipped = plan.skipped.length ? ` (${plan.skipped.length} skipped: kept, running or too recent)` : '';
      void vscode.window.showInformationMessage(`ContainAI: nothing older than ${plan.age} to collect${skipped}.`);
      return;
    }
    const answer = await vscode.window.showWarningMessage(
      `Remove ${items.length} stale container${items.length === 1 ? '' : 's'}?`,
      { modal: true, detail: `${items.slice(0, 20).join('\n')}${items.length > 20 ? `\n… and ${items.length - 20} more` : ''}\n\nTheir data volumes are kept: no command ever deletes a volume.` },
      'Remove',
    );
    if (answer !== 'Remove') return;
    try {
      const api = this.requireApi();
      const done = await this.reconciling(() => this.withProgress('ContainAI: Garbage collecting', (workDoneToken, ct) => api.gc({ force: true, age: age.trim(), workDoneToken }, ct)));
      if (done.declined) return;
      for (const f of done.failed) this.output.appendLine(`[containai] gc: could not remove ${f.kind} ${f.name} (${f.context}): ${f.message}`);
      const n = done.removed.length;
      const failed = done.failed.length ? `; ${done.failed.length} could not be removed (see the server log)` : '';
      const msg = `ContainAI: removed ${n} container${n === 1 ? '' : 's'}${failed}.`;
      if (done.failed.length) void this.showError(msg, ['showServerLog']);
      else void vscode.window.showInformationMessage(msg);
    } catch (err) {
      await this.reportError(err, 'Garbage collection');
    }
  }

  async doctor(): Promise<void> {
    try {
      const api = this.requireApi();
      const res = await this.withProgress('ContainAI: Doctor', (_token, ct) => api.doctor({ context: dockerContext() }, ct));
      const mark = { ok: '✓', warn: '!', error: '✗', skip: '-' } as const;
      this.output.appendLine(`[containai] doctor: ${res.ok ? 'ready' : `not ready — first: ${res.recommendedAction}`}${res.isolation ? ` (isolation: ${res.isolation})` : ''}`);
      for (const c of res.checks) {
        this.output.appendLine(`  ${mark[c.status]} ${c.title}: ${c.detail}${c.hint ? `\n      → ${c.hint}` : ''}`);
      }
      this.output.show(true);
      const bad = res.checks.filter((c) => c.status === 'error');
      const warn = res.checks.filter((c) => c.status === 'warn');
      if (res.ok && bad.length === 0) {
        void vscode.window.showInformationMessage(`ContainAI Doctor: ready${warn.length ? ` (${warn.length} warning${warn.length === 1 ? '' : 's'})` : ''}. Details in the "ContainAI Server" output.`);
      } else {
        const first = bad[0] ?? warn[0];
        void vscode.window.showWarningMessage(`ContainAI Doctor: ${doctorAction(res.recommendedAction)}${first ? ` — ${first.title}: ${first.hint ?? first.detail}` : ''}`);
      }
    } catch (err) {
      // the engine being down is exactly when one runs doctor: show the log, not a loop
      this.output.appendLine(`[containai] doctor failed: ${(err as Error)?.message ?? String(err)}`);
      this.output.show(true);
      if ((err as { code?: number })?.code === METHOD_NOT_FOUND) {
        void vscode.window.showWarningMessage('ContainAI: this containai-rpc server has no Doctor; the server log has its engine messages.');
        return;
      }
      const e = describeError(err, 'Doctor');
      if (!e.quiet) void vscode.window.showErrorMessage(`ContainAI: ${e.message}`);
    }
  }

  showServerLog(): void {
    this.output.show(true);
  }

  async statusBarActions(): Promise<void> {
    const s = this.store;
    const actions =
      s.serverState !== 'running'
        ? [actionSpec('restartServer'), actionSpec('showServerLog')]
        : actionsFor(s.current(), { engineDown: s.engineDown });
    const pick = await vscode.window.showQuickPick(
      actions.map((a) => ({ label: a.label, description: a.description, id: a.id })),
      { placeHolder: s.current() ? `ContainAI: ${s.current()!.name} (${s.current()!.status})` : 'ContainAI' },
    );
    if (pick) await vscode.commands.executeCommand(COMMAND_OF[pick.id]);
  }

  /** The e2e reads this through the `containai._debugState` command. */
  debugState(): unknown {
    const s = this.store;
    return {
      serverState: s.serverState,
      engine: s.engine,
      loaded: s.loaded,
      revision: s.revision,
      workspacePath: s.workspacePath,
      current: s.current(),
      containers: s.sorted().map((c) => ({ name: c.name, status: c.status, workspace: c.workspace })),
    };
  }
}

export function workspacePath(): string | undefined {
  const p = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!p) return undefined;
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

export function dockerContext(): string | undefined {
  const v = vscode.workspace.getConfiguration('containai').get<string>('dockerContext');
  return v && v.trim().length > 0 ? v.trim() : undefined;
}

function stripStatus(st: StatusResult): ContainerSummary {
  const { uptime: _u, sessions: _s, sessionsKnown: _k, resources: _r, partial: _p, isolation: _i, ...summary } = st;
  return summary;
}

function syntheticSummary(r: RunResult): ContainerSummary {
  return {
    id: r.containerName,
    name: r.containerName,
    context: r.context,
    status: r.state === 'absent' ? 'created' : r.state,
    dockerState: r.state,
    image: r.image,
    workspace: r.workspace,
    dataVolume: r.dataVolume,
    sshPort: r.ssh?.port,
    keep: false,
  };
}

function gcItems(r: GcResult): string[] {
  const rows = r.candidates.map((c) => `container ${c.name} — ${c.state} ${c.age}${c.workspace ? ` — ${c.workspace}` : ''}`);
  for (const i of r.images?.candidates ?? []) rows.push(`image ${i.reference}`);
  return rows;
}

function doctorAction(a: DoctorResult['recommendedAction']): string {
  switch (a) {
    case 'ready':
      return 'ready';
    case 'startDocker':
      return 'start the Docker engine first';
    case 'enableIsolation':
      return 'enable isolation (Sysbox), or allow reduced isolation';
    case 'buildImage':
      return 'build the container image first';
    case 'setupSsh':
      return 'set up SSH first';
    case 'fixConfig':
      return 'fix the configuration first';
    default:
      return String(a);
  }
}
