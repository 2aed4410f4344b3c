/**
 * Activation: the connection, the views, and the commands of the command table, wired
 * together with their dependencies passed explicitly.
 */
import * as vscode from 'vscode';
import { Connection } from './connection';
import { dockerContext, resourceSettings as settings, stopOnWindowClose as stopOnClose } from './settings';
import { stopOnWindowClose } from './commands/lifecycle';
import { ContainerTreeProvider } from './tree';
import { ContainerStatusBar } from './statusBar';
import { StatusPanel } from './statusPanel';
import { ResourceSampler } from './resourceSampler';
import type { Deps } from './commands/deps';
import { showError } from './commands/feedback';
import { idleWarning } from './commands/session';
import { commandOf, registerCommands } from './commands/table';
import { watchTemplates } from './templateWatch';

let active: { conn: Connection; deps: Deps } | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ connection: Connection }> {
  const deps: Deps = {
    get store() {
      return conn.store;
    },
    get output() {
      return conn.output;
    },
    api: () => conn.requireApi(),
    relist: () => conn.relist(),
    restartServer: () => conn.restart(),
    onProgress: (token, handler) => conn.onProgress(token, handler),
    dockerContext,
    runAction: (id) => vscode.commands.executeCommand(commandOf(id)),
  };
  const conn = new Connection(
    (msg) => void showError(deps, msg, ['showServerLog', 'restartServer']),
    (p) => void idleWarning(deps, p),
  );
  active = { conn, deps };
  const tree = new ContainerTreeProvider(conn.store);
  const view = vscode.window.createTreeView('containai.containers', { treeDataProvider: tree, showCollapseAll: false });
  const statusBar = new ContainerStatusBar(conn.store, Date.now, () => ({ resourcesInText: settings().resourcesInText, resourcesMaxAgeMs: 3 * settings().refreshMs }));
  const sampler = new ResourceSampler(deps, () => settings().refreshMs);
  const statusView = new StatusPanel(deps, () => settings().refreshMs);
  const syncMessage = (): void => {
    const m = tree.viewMessage();
    if (view.message !== m) view.message = m;
  };
  syncMessage();
  // ages ("Up 3 min") are rendered locally: re-render once a minute, no server call
  const tick = setInterval(() => tree.refresh(), 60_000);
  context.subscriptions.push(
    conn,
    tree,
    view,
    statusBar,
    sampler,
    statusView,
    { dispose: () => clearInterval(tick) },
    conn.store.onDidChange(syncMessage),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('containai.statusBar') || e.affectsConfiguration('containai.resources')) statusBar.update();
    }),
    // re-list when the view becomes visible (it may have been hidden through a restart)
    view.onDidChangeVisibility((e) => {
      if (e.visible) void conn.relist();
    }),
    // `outdated` is not pushed: re-list after a template edit
    watchTemplates(() => conn.relist()),
    ...registerCommands({
      deps,
      statusView,
      debugState: () => debugState(conn, statusBar.view, sampler.active()),
    }),
  );
  void conn.start();
  return { connection: conn };
}

function debugState(conn: Connection, statusBar: unknown, sampling: boolean): unknown {
  const s = conn.store;
  const current = s.current();
  return {
    serverState: s.serverState,
    engine: s.engine,
    workspaceContext: s.workspaceContext,
    contexts: s.contexts().map((c) => ({ context: c, health: s.engineOf(c)?.health })),
    loaded: s.loaded,
    revision: s.revision,
    workspacePath: s.workspacePath,
    current,
    containers: s.sorted().map((c) => ({ name: c.name, id: c.id, status: c.status, workspace: c.workspace, keep: c.keep, context: c.context, dataVolume: c.dataVolume })),
    resources: current ? s.history(current)?.samples : undefined,
    sampling,
    statusBar,
  };
}

/** How long closing the window waits for `containai.stopOnWindowClose`'s stop. */
const STOP_ON_CLOSE_MS = 4000;

export async function deactivate(): Promise<void> {
  const a = active;
  active = undefined;
  if (!a) return;
  if (stopOnClose()) await Promise.race([stopOnWindowClose(a.deps), new Promise((r) => setTimeout(r, STOP_ON_CLOSE_MS))]);
  a.conn.dispose();
}
