import * as vscode from 'vscode';
import { Controller } from './controller';
import { ContainerTreeProvider } from './tree';
import { ContainerStatusBar, STATUS_BAR_COMMAND } from './statusBar';

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<{ controller: Controller }> {
  const ctl = new Controller(context);
  controller = ctl;
  const tree = new ContainerTreeProvider(ctl.store);
  const view = vscode.window.createTreeView('containai.containers', { treeDataProvider: tree, showCollapseAll: false });
  const statusBar = new ContainerStatusBar(ctl.store);
  const syncMessage = (): void => {
    const m = tree.viewMessage();
    if (view.message !== m) view.message = m;
  };
  const messageSub = ctl.store.onDidChange(syncMessage);
  syncMessage();
  // ages ("Up 3 min") are rendered locally: re-render once a minute, no server call
  const tick = setInterval(() => tree.refresh(), 60_000);

  const reg = (id: string, fn: (...args: unknown[]) => unknown): vscode.Disposable => vscode.commands.registerCommand(id, fn);
  context.subscriptions.push(
    ctl,
    tree,
    view,
    statusBar,
    { dispose: () => clearInterval(tick) },
    messageSub,
    // re-list when the view becomes visible (it may have been hidden through a restart)
    view.onDidChangeVisibility((e) => {
      if (e.visible) void ctl.relist();
    }),
    reg('containai.run', (arg) => ctl.run(arg, 'run')),
    reg('containai.start', (arg) => ctl.run(arg, 'run')),
    reg('containai.fresh', (arg) => ctl.run(arg, 'fresh')),
    reg('containai.reset', (arg) => ctl.run(arg, 'reset')),
    reg('containai.stop', (arg) => ctl.stop(arg, false)),
    reg('containai.stopAndRemove', (arg) => ctl.stop(arg, true)),
    reg('containai.backUp', (arg) => ctl.backUp(arg)),
    reg('containai.status', (arg) => ctl.status(arg)),
    reg('containai.keep', (arg) => ctl.setKeep(arg, true)),
    reg('containai.unkeep', (arg) => ctl.setKeep(arg, false)),
    reg('containai.openShell', (arg) => ctl.openShell(arg)),
    reg('containai.openRemoteSsh', (arg) => ctl.openRemoteSsh(arg)),
    reg('containai.copySshCommand', (arg) => ctl.copySshCommand(arg)),
    reg('containai.gc', () => ctl.gc()),
    reg('containai.doctor', () => ctl.doctor()),
    reg('containai.showServerLog', () => ctl.showServerLog()),
    reg('containai.restartServer', () => ctl.restartServer()),
    reg('containai.refresh', () => ctl.relist()),
    reg(STATUS_BAR_COMMAND, () => ctl.statusBarActions()),
    reg('containai._debugState', () => ({ ...(ctl.debugState() as object), statusBar: statusBar.view })),
  );
  void ctl.start();
  return { controller: ctl };
}

export async function deactivate(): Promise<void> {
  controller?.dispose();
  controller = undefined;
}
