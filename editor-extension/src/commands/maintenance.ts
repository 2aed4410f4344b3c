/** Garbage Collect…, and the status bar's quick pick of the workspace container's actions. */
import * as vscode from 'vscode';
import type { GcResult } from '../protocol';
import { actionSpec, actionsFor, type ActionId } from '../model/format';
import { bytesText } from '../model/resources';
import type { Deps } from './deps';
import { reconciling, reportError, showError, withProgress } from './feedback';

const AGE = /^\s*\d+\s*[dhmwDHMW]\s*$/;

interface ScopeItem extends vscode.QuickPickItem {
  images: boolean;
}

/** Asks the age and whether unused images go too; undefined when dismissed. */
async function askGc(): Promise<{ age: string; images: boolean } | undefined> {
  const age = await vscode.window.showInputBox({
    title: 'ContainAI: Garbage Collect (1/2)',
    prompt: 'Remove stopped containers older than (N followed by d, h, m or w). Running and kept containers, and all volumes, are never removed. A dry run comes first.',
    value: '30d',
    validateInput: (v) => (AGE.test(v) ? undefined : 'e.g. 30d, 12h, 2w'),
  });
  if (age === undefined) return undefined;
  const items: ScopeItem[] = [
    { label: 'Stale containers', description: 'stopped, not kept, older than the age', images: false },
    { label: 'Stale containers and unused images', description: 'also ContainAI images no container uses', images: true },
  ];
  const scope = await vscode.window.showQuickPick(items, { title: 'ContainAI: Garbage Collect (2/2)', placeHolder: 'What to collect' });
  return scope ? { age: age.trim(), images: scope.images } : undefined;
}

export function gcItems(r: GcResult): string[] {
  const rows = r.candidates.map((c) => `container ${c.name} — ${c.state} ${c.age}${c.workspace ? ` — ${c.workspace}` : ''}`);
  for (const i of r.images?.candidates ?? []) rows.push(`image ${i.reference}${i.sizeBytes !== undefined ? ` (${bytesText(i.sizeBytes)})` : ''}`);
  return rows;
}

export async function gc(deps: Deps): Promise<GcResult | undefined> {
  const ask = await askGc();
  if (!ask) return undefined;
  const { age, images } = ask;
  let plan: GcResult;
  try {
    const api = deps.api();
    plan = await withProgress(deps, 'ContainAI: Looking for stale containers (dry run)', (workDoneToken, ct) => api.gc({ dryRun: true, age, images, workDoneToken }, ct));
  } catch (err) {
    await reportError(deps, err, 'Garbage collection (dry run)');
    return undefined;
  }
  for (const e of plan.errors ?? []) deps.output.appendLine(`[containai] gc: context ${e.context}: ${e.message}`);
  const items = gcItems(plan);
  if (items.length === 0) {
    const skipped = plan.skipped.length ? ` (${plan.skipped.length} skipped: kept, running or too recent)` : '';
    void vscode.window.showInformationMessage(`ContainAI: nothing older than ${plan.age} to collect${skipped}.`);
    return plan;
  }
  const answer = await vscode.window.showWarningMessage(
    `Remove ${items.length} stale item${items.length === 1 ? '' : 's'}?`,
    { modal: true, detail: `${items.slice(0, 20).join('\n')}${items.length > 20 ? `\n… and ${items.length - 20} more` : ''}\n\nTheir data volumes are kept: no command ever deletes a volume.` },
    'Remove',
  );
  if (answer !== 'Remove') return plan;
  try {
    const api = deps.api();
    const done = await reconciling(deps, () => withProgress(deps, 'ContainAI: Garbage collecting', (workDoneToken, ct) => api.gc({ force: true, age, images, workDoneToken }, ct)));
    if (done.declined) return done;
    for (const f of done.failed) deps.output.appendLine(`[containai] gc: could not remove ${f.kind} ${f.name} (${f.context}): ${f.message}`);
    const n = done.removed.length;
    const imgs = done.images?.removed.length ?? 0;
    const failed = done.failed.length ? `; ${done.failed.length} could not be removed (see the server log)` : '';
    const msg = `ContainAI: removed ${n} container${n === 1 ? '' : 's'}${images ? ` and ${imgs} image${imgs === 1 ? '' : 's'}` : ''}${failed}.`;
    if (done.failed.length) void showError(deps, msg, ['showServerLog']);
    else void vscode.window.showInformationMessage(msg);
    return done;
  } catch (err) {
    await reportError(deps, err, 'Garbage collection');
    return undefined;
  }
}

interface ActionPick extends vscode.QuickPickItem {
  id: ActionId;
}

export async function statusBarActions(deps: Deps): Promise<void> {
  const s = deps.store;
  const actions = s.serverState !== 'running' ? [actionSpec('restartServer'), actionSpec('showServerLog')] : actionsFor(s.current(), { engineDown: s.engineDown });
  const current = s.current();
  const pick = await vscode.window.showQuickPick<ActionPick>(
    actions.map((a) => ({ label: a.label, description: a.description, id: a.id })),
    { placeHolder: current ? `ContainAI: ${current.name} (${current.status})` : 'ContainAI' },
  );
  if (pick) await deps.runAction(pick.id);
}
