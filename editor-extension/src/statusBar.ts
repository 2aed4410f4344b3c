/**
 * The status bar item for the current workspace's container, updated from the store
 * (which is fed by notifications). Clicking it opens a quick pick of the valid actions.
 */
import * as vscode from 'vscode';
import type { ContainerStore } from './model/store';
import { statusBarView, type StatusBarOptions, type StatusBarView } from './model/statusView';

export const STATUS_BAR_COMMAND = 'containai.statusBarActions';

export class ContainerStatusBar implements vscode.Disposable {
  readonly item: vscode.StatusBarItem;
  private readonly sub: { dispose(): void };
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastView: StatusBarView | undefined;

  constructor(
    private readonly store: ContainerStore,
    private readonly now: () => number = Date.now,
    private readonly options: () => StatusBarOptions = () => ({}),
  ) {
    this.item = vscode.window.createStatusBarItem('containai.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'ContainAI';
    this.item.command = STATUS_BAR_COMMAND;
    this.sub = store.onDidChange(() => this.update());
    this.update();
    this.item.show();
    // the tooltip's "Up 3 h" is rendered locally; re-render it once a minute (no server call)
    this.timer = setInterval(() => this.update(), 60_000);
    (this.timer as { unref?: () => void }).unref?.();
  }

  get view(): StatusBarView | undefined {
    return this.lastView;
  }

  update(): void {
    const v = statusBarView(this.store, this.now(), this.options());
    this.lastView = v;
    this.item.text = v.text;
    this.item.tooltip = v.tooltip;
    this.item.accessibilityInformation = { label: `ContainAI ${v.state}: ${v.text.replace(/\$\([^)]*\)\s*/g, '')}` };
    this.item.backgroundColor =
      v.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : v.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.sub.dispose();
    this.item.dispose();
  }
}
