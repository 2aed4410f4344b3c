/**
 * The "Containers" tree of the ContainAI sidebar, rendered from the store. Never polls:
 * the store changes on notifications; the controller re-lists on a gap or when the view
 * becomes visible.
 */
import * as vscode from 'vscode';
import type { ContainerSummary } from './protocol';
import { contextValue, rowDescription, stateIcon, tooltipMarkdown } from './model/format';
import type { ContainerStore } from './model/store';
import { treeMessage } from './model/statusView';

export type TreeNode =
  | { kind: 'container'; container: ContainerSummary; current: boolean }
  | { kind: 'message'; title: string; text: string; severity: 'error' | 'warning' | 'info' | 'action'; command?: string; description?: string };

/** Same words as the welcome view's button. */
export const RUN_ROW_TITLE = 'Run a container for this workspace';

export class ContainerTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly sub: { dispose(): void };

  constructor(
    private readonly store: ContainerStore,
    private readonly now: () => number = Date.now,
    private readonly home: string | undefined = process.env.HOME,
  ) {
    this.sub = store.onDidChange(() => this.emitter.fire());
  }

  /** The text for `TreeView.message` (wrapped above the tree), or undefined. */
  viewMessage(): string | undefined {
    const msg = treeMessage(this.store);
    return msg ? `${msg.severity === 'error' ? '⚠ ' : ''}${msg.text}` : undefined;
  }

  refresh(): void {
    this.emitter.fire();
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }

  getChildren(element?: TreeNode): TreeNode[] {
    if (element) return [];
    const s = this.store;
    const msg = treeMessage(s);
    if (msg && msg.severity === 'error') {
      // the engine or the server is down: say so, never an empty list or a spinner forever
      return [{ kind: 'message', title: msg.title, text: msg.text, severity: 'error', command: s.serverState === 'running' ? 'containai.doctor' : 'containai.showServerLog' }];
    }
    if (s.serverState === 'starting' || !s.loaded) {
      const text = 'Connecting to the containai-rpc server…';
      return [{ kind: 'message', title: text, text, severity: 'info' }];
    }
    const rows: TreeNode[] = s.sorted().map((c) => ({ kind: 'container', container: c, current: s.isCurrent(c) }));
    if (rows.length > 0 && s.workspacePath !== undefined && s.current() === undefined) {
      // other workspaces have containers, this one has none: offer it first
      rows.unshift({ kind: 'message', title: RUN_ROW_TITLE, text: `This workspace has no container yet${s.workspaceContainerName ? ` (it will be ${s.workspaceContainerName})` : ''}. Click to run one.`, severity: 'action', command: 'containai.run', description: s.workspaceContainerName });
    }
    if (msg) rows.push({ kind: 'message', title: msg.title, text: msg.text, severity: msg.severity ?? 'warning' });
    // an empty array lets VS Code show the welcome view ("Run a container for this workspace")
    return rows;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'message') {
      const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.None);
      if (node.command === 'containai.doctor') item.description = 'click to run Doctor';
      else if (node.command === 'containai.showServerLog') item.description = 'click for the log';
      item.id = `message:${node.severity}`;
      item.iconPath =
        node.severity === 'action'
          ? new vscode.ThemeIcon('play', new vscode.ThemeColor('charts.green'))
          : node.severity === 'error'
          ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'))
          : node.severity === 'warning'
            ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('editorWarning.foreground'))
            : new vscode.ThemeIcon('sync~spin');
      item.tooltip = node.text;
      item.accessibilityInformation = { label: node.text };
      item.contextValue = `containaiMessage.${node.severity}`;
      if (node.command) item.command = { command: node.command, title: node.title };
      if (node.description) item.description = node.description;
      return item;
    }
    const c = node.container;
    const now = this.now();
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.None);
    item.id = `container:${c.context}:${c.name}`;
    item.description = rowDescription(c, now, this.home, node.current);
    const icon = stateIcon(c.status);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    const md = new vscode.MarkdownString(tooltipMarkdown(c, now));
    item.tooltip = md;
    item.contextValue = contextValue(c, node.current);
    item.accessibilityInformation = { label: `${c.name}, ${c.status}, ${rowDescription(c, now, this.home, node.current)}` };
    return item;
  }
}
