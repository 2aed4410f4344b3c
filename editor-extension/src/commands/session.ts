/**
 * Open Agent Session…, and the idle auto-stop's warning with its "Keep Running" answer.
 * A session's command line comes from the server (`run`'s `session.argv`): the same argv
 * `cai` and the MCP server execute.
 */
import * as vscode from 'vscode';
import { Methods, type IdleWarning } from '../protocol';
import { clockTime, countdown } from '../model/format';
import type { Deps } from './deps';
import { chooseContext } from './placement';
import { containerOf, reportError, resolveTarget, targetName, targetParams, withProgress } from './feedback';

/** The agents `containai:latest` carries; "default" lets the server pick (`[agent] default`). */
export const AGENTS = ['claude', 'gemini', 'codex'] as const;

interface AgentItem extends vscode.QuickPickItem {
  agent?: string;
}

export async function openAgentSession(deps: Deps, arg?: unknown): Promise<vscode.Terminal | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  const name = targetName(deps, t);
  const items: AgentItem[] = [{ label: 'Default agent', description: 'the one set in the ContainAI config (else claude)' }, ...AGENTS.map((a) => ({ label: a, agent: a }))];
  const pick = await vscode.window.showQuickPick(items, { title: `ContainAI: agent session in ${name}`, placeHolder: 'Which agent' });
  if (!pick) return undefined;
  // a first container goes where Run would put it: the same picker when several contexts answer
  const placed = t.kind === 'workspace' ? await chooseContext(deps, t.workspace, false) : {};
  if (!placed) return undefined;
  try {
    const api = deps.api();
    const c = containerOf(deps, t);
    const params = t.kind === 'container' && c?.workspace ? { workspace: c.workspace, context: c.context } : { ...targetParams(deps, t), ...placed };
    // run ensures the container (attach when it runs) and answers with the session's argv
    const result = await withProgress(deps, `ContainAI: Preparing an agent session in ${name}`, (workDoneToken, ct) => api.run({ ...params, agent: pick.agent, tty: true, workDoneToken }, ct));
    const argv = result.session?.argv;
    if (!argv || argv.length === 0) {
      void vscode.window.showWarningMessage(`ContainAI: ${result.containerName} has no SSH endpoint, so no agent session can run in it.`);
      return undefined;
    }
    const [shellPath, ...shellArgs] = argv;
    const term = vscode.window.createTerminal({ name: `ContainAI: ${result.session?.agent ?? pick.agent ?? 'agent'} in ${result.containerName}`, shellPath, shellArgs });
    term.show();
    return term;
  } catch (err) {
    await reportError(deps, err, `Agent session in ${name}`);
    return undefined;
  }
}

export async function postponeIdleStop(deps: Deps, arg?: unknown): Promise<void> {
  const t = resolveTarget(deps, arg);
  if (!t) return;
  try {
    const res = await deps.api().request(Methods.postponeIdleStop, targetParams(deps, t));
    const msg = res.autoStopAt ? `keeps running; it stops when idle at ${clockTime(res.autoStopAt)} unless used` : 'has no idle auto-stop';
    void vscode.window.showInformationMessage(`ContainAI: ${res.containerName} ${msg}.`);
    void deps.relist();
  } catch (err) {
    await reportError(deps, err, 'Keep Running');
  }
}

/** `containai/idleWarning`: say when it stops, offer to keep it running. */
export async function idleWarning(deps: Deps, p: IdleWarning, now: () => number = Date.now): Promise<void> {
  const left = countdown(p.autoStopAt, now()) ?? 'soon';
  const keep = { id: 'postpone', title: 'Keep Running' };
  const picked = await vscode.window.showWarningMessage(`ContainAI: ${p.containerName} is unused and stops by itself ${left} (at ${clockTime(p.autoStopAt)}).`, keep);
  if (picked?.id !== 'postpone') return;
  const c = deps.store.find(p.containerName, p.context);
  await postponeIdleStop(deps, c ? { kind: 'container', container: c, current: deps.store.isCurrent(c) } : undefined);
}
