/**
 * The "Containers" tree of the ContainAI sidebar, rendered from the store. Never polls:
 * the store changes on notifications; the connection re-lists on a gap or when the view
 * becomes visible. With several Docker contexts the rows are grouped per context, and a
 * context whose engine is unreachable is an error group (it never hides the healthy ones).
 */
import * as vscode from 'vscode';
import type { ContainerSummary } from './protocol';
import { contextValue, rowDescription, stateIcon, tooltipMarkdown } from './model/format';
import type { ContainerStore } from './model/store';
import { treeMessage } from './model/statusView';

export type TreeNode =
  | { kind: 'container'; container: ContainerSummary; current: boolean }
  | { kind: 'group'; context: string; error?: string; current: boolean; count: number; host?: string }
  | { kind: 'message'; title: string; text: string; severity: 'error' | 'warning' | 'info' | 'action'; command?: string; description?: string; context?: string };

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
    if (this.grouped()) return undefined;
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

  /** Groups per context once more than one context is known (and the server runs). */
  private grouped(): boolean {
    const s = this.store;
    return s.serverState === 'running' && s.loaded && s.listError === undefined && s.contexts().length > 1;
  }

  /** Why a context is unusable: its engine reported an error, or list could not reach it. */
  private contextError(context: string): string | undefined {
    const e = this.store.engineOf(context);
    if (e?.health === 'error') return e.message;
    return this.store.listErrors.find((x) => x.context === context)?.message;
  }

  getChildren(element?: TreeNode): TreeNode[] {
    const s = this.store;
    if (element?.kind === 'group') {
      if (element.error) {
        return [{ kind: 'message', title: 'Docker engine unreachable', text: `Context ${element.context}: ${element.error}`, severity: 'error', command: 'containai.doctor', context: element.context }];
      }
      return s.sorted().filter((c) => c.context === element.context).map((c) => ({ kind: 'container', container: c, current: s.isCurrent(c) }));
    }
    if (element) return [];
    const msg = treeMessage(s);
    if (!this.grouped() && msg && msg.severity === 'error') {
      // the engine or the server is down: say so, never an empty list or a spinner forever
      return [{ kind: 'message', title: msg.title, text: msg.text, severity: 'error', command: s.serverState === 'running' ? 'containai.doctor' : 'containai.showServerLog' }];
    }
    if (s.serverState === 'starting' || !s.loaded) {
      const text = 'Connecting to the containai-rpc server…';
      return [{ kind: 'message', title: text, text, severity: 'info' }];
    }
    const rows: TreeNode[] = [];
    if (s.workspacePath !== undefined && s.current() === undefined && (s.containers.length > 0 || this.grouped())) {
      // other workspaces have containers, this one has none: offer it first
      rows.push({ kind: 'message', title: RUN_ROW_TITLE, text: `This workspace has no container yet${s.workspaceContainerName ? ` (it will be ${s.workspaceContainerName})` : ''}. Click to run one.`, severity: 'action', command: 'containai.run', description: s.workspaceContainerName });
    }
    if (this.grouped()) {
      const ws = s.workspaceContext;
      for (const context of s.contexts()) {
        const mine = s.containers.filter((c) => c.context === context);
        const host = mine.find((c) => c.host && c.host !== 'local')?.host;
        rows.push({ kind: 'group', context, error: this.contextError(context), current: context === ws, count: mine.length, host });
      }
      return rows;
    }
    rows.push(...s.sorted().map((c): TreeNode => ({ kind: 'container', container: c, current: s.isCurrent(c) })));
    if (msg) rows.push({ kind: 'message', title: msg.title, text: msg.text, severity: msg.severity ?? 'warning' });
    // an empty array lets VS Code show the welcome view ("Run a container for this workspace")
    return rows;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    if (node.kind === 'group') return groupItem(node);
    if (node.kind === 'message') return messageItem(node);
    const c = node.container;
    const now = this.now();
    const item = new vscode.TreeItem(c.name, vscode.TreeItemCollapsibleState.None);
    item.id = `container:${c.context}:${c.name}`;
    item.description = rowDescription(c, now, this.home, node.current);
    const icon = stateIcon(c.status);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    item.tooltip = new vscode.MarkdownString(tooltipMarkdown(c, now));
    item.contextValue = contextValue(c, node.current);
    item.accessibilityInformation = { label: `${c.name}, ${c.status}, ${rowDescription(c, now, this.home, node.current)}` };
    return item;
  }
}

function groupItem(node: Extract<TreeNode, { kind: 'group' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.context, vscode.TreeItemCollapsibleState.Expanded);
  item.id = `context:${node.context}`;
  const bits = [node.error ? 'unreachable' : `${node.count} container${node.count === 1 ? '' : 's'}`];
  if (node.current) bits.push('this workspace');
  if (node.host) bits.push(node.host);
  item.description = bits.join(' · ');
  item.iconPath = node.error ? new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground')) : new vscode.ThemeIcon('server-environment');
  item.tooltip = node.error ? `Docker context ${node.context}: engine unreachable — ${node.error}` : `Docker context ${node.context}`;
  item.contextValue = `containaiContext.${node.error ? 'error' : 'ok'}`;
  item.accessibilityInformation = { label: `context ${node.context}, ${node.error ? `unreachable: ${node.error}` : bits.join(', ')}` };
  return item;
}

function messageItem(node: Extract<TreeNode, { kind: 'message' }>): vscode.TreeItem {
  const item = new vscode.TreeItem(node.title, vscode.TreeItemCollapsibleState.None);
  if (node.command === 'containai.doctor') item.description = 'click to run Doctor';
  else if (node.command === 'containai.showServerLog') item.description = 'click for the log';
  item.id = `message:${node.context ?? ''}:${node.severity}`;
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
