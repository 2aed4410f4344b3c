/**
 * The Run picker: the Docker context a workspace's first container goes to when several
 * contexts answer, and always for "Run on Context…". What to ask is model/placement.ts.
 */
import * as vscode from 'vscode';
import { contextChoices, shouldAsk } from '../model/placement';
import type { Deps } from './deps';
import { showError } from './feedback';

interface ContextItem extends vscode.QuickPickItem {
  context: string;
}

/**
 * The context to run on: `{}` when nothing is asked (Run's own choice, as before),
 * `{ context }` when picked, undefined when the user cancelled (nothing is done then).
 */
export async function chooseContext(deps: Deps, workspace: string, always: boolean): Promise<{ context?: string } | undefined> {
  const s = deps.store;
  const setting = deps.dockerContext();
  if (!shouldAsk({ always, setting, existing: s.current(), engines: s.engineReports })) return {};
  // where a Run without `context` goes, and whether the server knows a container the tree has not shown yet
  const plan = setting ? undefined : await deps.api().run({ workspace, dryRun: true }).catch(() => undefined);
  const existing = s.current() ?? (plan && plan.action !== 'create' ? { name: plan.containerName, context: plan.context } : undefined);
  if (existing && !always) return {};
  const items = contextChoices(s.engineReports, s.containers, setting ?? plan?.context, existing);
  if (!always && items.length < 2) return {};
  if (items.length === 0) {
    void showError(deps, 'ContainAI: no Docker context answers, so there is nowhere to run a container.', ['doctor']);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick<ContextItem>(
    items.map((i) => ({ label: i.label, description: i.description, detail: i.detail, context: i.context })),
    {
      title: 'ContainAI: Run on which Docker context?',
      placeHolder: existing ? `This workspace's container ${existing.name} is on ${existing.context}` : "The context this workspace's container is created on",
      // a tree re-render (containers of other workspaces) must not close it
      ignoreFocusOut: true,
    },
  );
  if (!pick) return undefined;
  if (existing && existing.context !== pick.context) {
    void vscode.window.showWarningMessage(
      `ContainAI: this workspace already has a container, ${existing.name}, on context '${existing.context}'. Stop and Remove it first to create one on '${pick.context}'.`,
    );
    return undefined;
  }
  return { context: pick.context };
}
