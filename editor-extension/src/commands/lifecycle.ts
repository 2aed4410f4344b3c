/** Run / Start / Fresh / Reset and Stop / Stop and Remove. */
import * as vscode from 'vscode';
import type { ContainerSummary, RunParams, RunResult, StopResult } from '../protocol';
import { reasonOf } from '../model/errors';
import type { Deps } from './deps';
import { button, containerOf, isWorkspaceTarget, reconciling, reportError, resolveTarget, targetName, targetParams, withProgress, type Target } from './feedback';
import { chooseContext } from './placement';
import { copySshCommand, openShell } from './ssh';

export type RunMode = 'run' | 'fresh' | 'reset';

const CONFIRM: Record<Exclude<RunMode, 'run'>, (name: string, c: ContainerSummary | undefined) => { title: string; detail: string }> = {
  fresh: (name, c) => ({
    title: `Recreate ${name}?`,
    detail: `The container is removed and created again from its image. Kept: the data volume (${c?.dataVolume ?? 'the current one'}) and the workspace folder. Lost: changes made elsewhere in the container (installed packages, files outside the volume and the workspace).`,
  }),
  reset: (name, c) => ({
    title: `Reset ${name}?`,
    detail: `The container is removed and recreated with a NEW, empty data volume. The old volume (${c?.dataVolume ?? 'the current data volume'}) is kept but no longer used — nothing is deleted, and you can still find it with "docker volume ls".`,
  }),
};

async function confirmed(title: string, detail: string, yes: string): Promise<boolean> {
  return (await vscode.window.showWarningMessage(title, { modal: true, detail }, yes)) === yes;
}

export async function run(deps: Deps, arg: unknown, mode: RunMode = 'run', extra: Partial<RunParams> = {}): Promise<RunResult | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  if (mode === 'run' && t.kind === 'workspace' && extra.context === undefined) {
    const placed = await chooseContext(deps, t.workspace, false);
    if (!placed) return undefined;
    if (placed.context !== undefined) extra = { ...extra, context: placed.context };
  }
  const name = targetName(deps, t);
  const existing = containerOf(deps, t);
  if (mode === 'reset' || (mode === 'fresh' && existing)) {
    const q = CONFIRM[mode](name, existing);
    if (!(await confirmed(q.title, q.detail, mode === 'fresh' ? 'Fresh' : 'Reset'))) return undefined;
  }
  const params: RunParams = {
    ...(t.kind === 'container' && t.container.workspace ? { workspace: t.container.workspace, context: t.container.context } : targetParams(deps, t)),
    ...(mode === 'fresh' ? { fresh: true } : {}),
    ...(mode === 'reset' ? { reset: true } : {}),
    ...extra,
  };
  const verb = mode === 'run' ? (existing && existing.status !== 'running' ? 'Starting' : 'Running') : mode === 'fresh' ? 'Recreating' : 'Resetting';
  const mine = isWorkspaceTarget(deps, t);
  if (mine) deps.store.setPending({ label: { run: 'starting…', fresh: 'recreating…', reset: 'resetting…' }[mode], container: existing?.name });
  try {
    const api = deps.api();
    const result = await reconciling(deps, () => withProgress(deps, `ContainAI: ${verb} ${name}`, (workDoneToken, ct) => api.run({ ...params, workDoneToken }, ct)));
    if (result.container) deps.store.upsert(result.container);
    if (mine) {
      deps.store.setWorkspaceContainerName(result.containerName);
      deps.store.setWorkspaceContext(result.context);
    }
    for (const w of result.warnings ?? []) deps.output.appendLine(`[containai] warning: ${w}`);
    const what = { create: 'created and started', start: 'started', attach: 'already running', recreate: 'recreated' }[result.action] ?? result.action;
    const buttons = result.ssh ? [button('openShell'), button('copySshCommand')] : [];
    const target = { kind: 'container', container: result.container ?? syntheticSummary(result), current: true } as const;
    void vscode.window.showInformationMessage(`ContainAI: ${result.containerName} ${what}${result.isolation === 'runc-reduced' ? ' (reduced isolation)' : ''}.`, ...buttons).then((b) => {
      if (b?.id === 'openShell') void openShell(deps, target);
      if (b?.id === 'copySshCommand') void copySshCommand(deps, target);
    });
    return result;
  } catch (err) {
    if (mine) deps.store.setPending(undefined);
    return retryAfterQuestion(deps, err, arg, mode, extra, verb, name);
  } finally {
    if (mine) deps.store.setPending(undefined);
  }
}

/** "Run on Context…": the workspace's container on the context picked, always asked. */
export async function runOnContext(deps: Deps): Promise<RunResult | undefined> {
  const ws = deps.store.workspacePath;
  if (!ws) return run(deps, undefined); // says "open a folder first"
  const placed = await chooseContext(deps, ws, true);
  return placed ? run(deps, undefined, 'run', placed) : undefined;
}

/** The two refusals a user can answer (reduced isolation, an unapproved volume), else the error. */
async function retryAfterQuestion(deps: Deps, err: unknown, arg: unknown, mode: RunMode, extra: Partial<RunParams>, verb: string, name: string): Promise<RunResult | undefined> {
  if (reasonOf(err) === 'isolationUnavailable' && !extra.allowReducedIsolation) {
    const b = await vscode.window.showErrorMessage(
      `ContainAI: ${(err as Error).message}`,
      { detail: 'Sysbox is not available on this engine.' },
      { id: 'reduced', title: 'Run with Reduced Isolation' },
      button('doctor'),
    );
    if (b?.id === 'reduced') return run(deps, arg, mode, { ...extra, allowReducedIsolation: true });
    if (b?.id === 'doctor') await deps.runAction('doctor');
    return undefined;
  }
  const data = (err as { data?: { approvable?: unknown; volume?: unknown } }).data;
  if (reasonOf(err) === 'volumeNotApproved' && data?.approvable === true && !extra.approveVolume) {
    // As git asks before trusting a repository: the repository chose a volume ContainAI did not create.
    const ok = await confirmed(`ContainAI: ${(err as Error).message}`, `Use data volume '${String(data.volume)}' for this workspace? The approval is remembered for it.`, 'Use This Volume');
    return ok ? run(deps, arg, mode, { ...extra, approveVolume: true }) : undefined;
  }
  await reportError(deps, err, `${verb} ${name}`);
  return undefined;
}

export async function stop(deps: Deps, arg: unknown, remove = false): Promise<StopResult | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  const name = targetName(deps, t);
  const existing = containerOf(deps, t);
  if (remove) {
    const detail = `The container is removed. Its data volume${existing?.dataVolume ? ` (${existing.dataVolume})` : ''} is kept; "ContainAI: Run" creates a new container that uses it again.`;
    if (!(await confirmed(`Stop and remove ${name}?`, detail, 'Stop and Remove'))) return undefined;
  }
  const mine = isWorkspaceTarget(deps, t);
  if (mine) deps.store.setPending({ label: remove ? 'removing…' : 'stopping…', container: existing?.name });
  try {
    const api = deps.api();
    // the token makes the server report on our notification instead of opening a second one
    const result = await reconciling(deps, () =>
      withProgress(deps, `ContainAI: ${remove ? 'Removing' : 'Stopping'} ${name}`, (workDoneToken, ct) => api.stop({ ...targetParams(deps, t), ...(remove ? { remove: true } : {}), workDoneToken }, ct)),
    );
    for (const r of result.results) {
      const who = r.containerName || name;
      if (r.action === 'notFound') void vscode.window.showInformationMessage(`ContainAI: ${who} — no such container.`);
      else if (r.action === 'failed') void vscode.window.showErrorMessage(`ContainAI: ${who}: ${r.message ?? 'failed'}`);
      else if (r.action === 'alreadyStopped') void vscode.window.showInformationMessage(`ContainAI: ${who} was already stopped.`);
      else if (r.action === 'declined') deps.output.appendLine(`[containai] ${who}: left running (not confirmed).`);
    }
    return result;
  } catch (err) {
    await reportError(deps, err, `${remove ? 'Removing' : 'Stopping'} ${name}`);
    return undefined;
  } finally {
    if (mine) deps.store.setPending(undefined);
  }
}

/**
 * `containai.stopOnWindowClose`: stop the workspace's running container as the window
 * closes (no question about sessions: the setting is the user's answer).
 */
export async function stopOnWindowClose(deps: Deps): Promise<void> {
  const c = deps.store.current();
  if (!c || c.status !== 'running' || deps.store.serverState !== 'running') return;
  try {
    await deps.api().stop({ container: c.name, context: c.context, force: true });
    deps.output.appendLine(`[containai] stopped ${c.name} as the window closed (containai.stopOnWindowClose)`);
  } catch (err) {
    deps.output.appendLine(`[containai] could not stop ${c.name} as the window closed: ${(err as Error)?.message ?? String(err)}`);
  }
}

export function syntheticSummary(r: RunResult): ContainerSummary {
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

export type { Target };
