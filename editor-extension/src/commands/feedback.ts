/**
 * How commands talk back: progress fed by the server's `$/progress`, errors with buttons
 * (mapped back to actions by id, never by label), and a re-list after our own operations.
 */
import * as vscode from 'vscode';
import type { ContainerSummary } from '../protocol';
import { actionSpec, type ActionId } from '../model/format';
import { describeError } from '../model/errors';
import type { TreeNode } from '../tree';
import type { Deps } from './deps';

export type Target = { kind: 'container'; container: ContainerSummary } | { kind: 'workspace'; workspace: string };

/** A notification button that carries the action it stands for. */
export interface ActionItem extends vscode.MessageItem {
  id: string;
}

export function button(id: ActionId): ActionItem {
  return { id, title: actionSpec(id).label.replace(/^\$\([^)]*\)\s*/, '') };
}

let progressSeq = 0;

/** A cancellable progress notification fed by the server's `$/progress` for a token we pass. */
export function withProgress<T>(deps: Deps, title: string, fn: (token: string, ct: vscode.CancellationToken) => Promise<T>): Thenable<T> {
  const token = `containai-${process.pid}-${++progressSeq}`;
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, ct) => {
    let last = 0;
    const sub = deps.onProgress(token, (v) => {
      if (v.kind === 'end') {
        if (v.message) progress.report({ message: v.message });
        return;
      }
      const increment = typeof v.percentage === 'number' ? Math.max(0, v.percentage - last) : undefined;
      if (typeof v.percentage === 'number') last = v.percentage;
      progress.report({ message: v.message, increment });
    });
    try {
      return await fn(token, ct);
    } finally {
      sub?.dispose();
    }
  });
}

/** Runs one of our own operations; if no containerChanged arrived meanwhile, re-lists once. */
export async function reconciling<T>(deps: Deps, fn: () => PromiseLike<T>): Promise<T> {
  const before = deps.store.revision;
  try {
    return await fn();
  } finally {
    if (deps.store.revision === before) void deps.relist();
  }
}

export async function showError(deps: Deps, message: string, actions: ActionId[]): Promise<void> {
  const picked = await vscode.window.showErrorMessage(message, ...actions.map(button));
  if (picked) await deps.runAction(picked.id as ActionId);
}

export async function reportError(deps: Deps, err: unknown, what: string): Promise<void> {
  const e = describeError(err, what);
  deps.output.appendLine(`[containai] ${e.message}${e.reason ? ` (${e.reason})` : ''}`);
  if (e.quiet) return;
  // not awaited: the notification stays until dismissed, the operation is over now
  void showError(deps, `ContainAI: ${e.message}`, e.actions);
}

/** From a tree row, or (palette / status bar) the current workspace. */
export function resolveTarget(deps: Deps, arg: unknown): Target | undefined {
  const node = arg as TreeNode | undefined;
  if (node && typeof node === 'object' && node.kind === 'container') return { kind: 'container', container: node.container };
  const ws = deps.store.workspacePath;
  if (ws) return { kind: 'workspace', workspace: ws };
  void vscode.window.showWarningMessage('ContainAI: open a folder first — containers belong to a workspace folder.');
  return undefined;
}

export function targetParams(deps: Deps, t: Target): { workspace?: string; container?: string; context?: string } {
  if (t.kind === 'workspace') return { workspace: t.workspace, context: deps.dockerContext() };
  return { container: t.container.name, context: t.container.context };
}

export function targetName(deps: Deps, t: Target): string {
  if (t.kind === 'container') return t.container.name;
  return deps.store.current()?.name ?? deps.store.workspaceContainerName ?? "this workspace's container";
}

export function containerOf(deps: Deps, t: Target): ContainerSummary | undefined {
  return t.kind === 'container' ? t.container : deps.store.current();
}

export function isWorkspaceTarget(deps: Deps, t: Target): boolean {
  return t.kind === 'workspace' || deps.store.isCurrent(t.container);
}
