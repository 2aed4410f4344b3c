/** Status, Keep / Unkeep, Back Up Data Volume…, Doctor. */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { METHOD_NOT_FOUND, type DoctorResult, type StatusResult } from '../protocol';
import { describeError } from '../model/errors';
import { statusLines } from '../model/statusHtml';
import { stripStatus } from '../model/store';
import type { Deps } from './deps';
import { reconciling, reportError, resolveTarget, targetName, targetParams, withProgress } from './feedback';

/** Where a status result is shown: the Status view (a webview panel). */
export interface StatusSink {
  show(st: StatusResult): void;
}

export async function status(deps: Deps, view: StatusSink, arg?: unknown, now: () => number = Date.now): Promise<StatusResult | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  try {
    const st = await deps.api().status(targetParams(deps, t));
    deps.store.upsert(stripStatus(st));
    deps.store.recordResources(st, st.resources, now());
    deps.output.appendLine(`[containai] status ${st.name}\n  ${statusLines(st).map(([k, v]) => `${k}: ${v}`).join('\n  ')}`);
    view.show(st);
    return st;
  } catch (err) {
    await reportError(deps, err, `Status of ${targetName(deps, t)}`);
    return undefined;
  }
}

export async function setKeep(deps: Deps, arg: unknown, keep: boolean): Promise<void> {
  const t = resolveTarget(deps, arg);
  if (!t) return;
  try {
    const api = deps.api();
    const res = await reconciling(deps, () => api.keep({ ...targetParams(deps, t), keep }));
    const how = res.keep
      ? `kept (garbage collection skips it${res.source === 'label' ? '; set at creation' : ''})`
      : res.source === 'label'
        ? 'still kept: its creation-time label cannot be removed'
        : 'no longer kept';
    void vscode.window.showInformationMessage(`ContainAI: ${res.containerName} is ${how}.`);
  } catch (err) {
    await reportError(deps, err, keep ? 'Keep' : 'Unkeep');
  }
}

/** containai/export of the container's data volume to a file the user picks. */
export async function backUp(deps: Deps, arg?: unknown): Promise<string | undefined> {
  const t = resolveTarget(deps, arg);
  if (!t) return undefined;
  const name = targetName(deps, t);
  const uri = await vscode.window.showSaveDialog({
    title: `Back up the data volume of ${name}`,
    saveLabel: 'Back Up',
    defaultUri: vscode.Uri.file(path.join(os.homedir(), `${name}-data.tgz`)),
    filters: { 'Backup archive': ['tgz'] },
  });
  if (!uri) return undefined;
  try {
    const api = deps.api();
    // The save dialog has already asked before replacing an existing file.
    const result = await withProgress(deps, `ContainAI: Backing up ${name}`, (workDoneToken, ct) => api.exportVolume({ ...targetParams(deps, t), output: uri.fsPath, force: true, workDoneToken }, ct));
    void vscode.window.showInformationMessage(`ContainAI: Data volume ${result.dataVolume} backed up to ${result.path}.`);
    return result.path;
  } catch (err) {
    await reportError(deps, err, `Backing up ${name}`);
    return undefined;
  }
}

const MARK = { ok: '✓', warn: '!', error: '✗', skip: '-' } as const;

export async function doctor(deps: Deps): Promise<DoctorResult | undefined> {
  try {
    const api = deps.api();
    const res = await withProgress(deps, 'ContainAI: Doctor', (_token, ct) => api.doctor({ context: deps.dockerContext() }, ct));
    deps.output.appendLine(`[containai] doctor: ${res.ok ? 'ready' : `not ready — first: ${res.recommendedAction}`}${res.isolation ? ` (isolation: ${res.isolation})` : ''}`);
    for (const c of res.checks) deps.output.appendLine(`  ${MARK[c.status]} ${c.title}: ${c.detail}${c.hint ? `\n      → ${c.hint}` : ''}`);
    deps.output.show(true);
    const bad = res.checks.filter((c) => c.status === 'error');
    const warn = res.checks.filter((c) => c.status === 'warn');
    if (res.ok && bad.length === 0) {
      void vscode.window.showInformationMessage(`ContainAI Doctor: ready${warn.length ? ` (${warn.length} warning${warn.length === 1 ? '' : 's'})` : ''}. Details in the "ContainAI Server" output.`);
    } else {
      const first = bad[0] ?? warn[0];
      void vscode.window.showWarningMessage(`ContainAI Doctor: ${doctorAction(res.recommendedAction)}${first ? ` — ${first.title}: ${first.hint ?? first.detail}` : ''}`);
    }
    return res;
  } catch (err) {
    // the engine being down is exactly when one runs doctor: show the log, not a loop
    deps.output.appendLine(`[containai] doctor failed: ${(err as Error)?.message ?? String(err)}`);
    deps.output.show(true);
    if ((err as { code?: number })?.code === METHOD_NOT_FOUND) {
      void vscode.window.showWarningMessage('ContainAI: this containai-rpc server has no Doctor; the server log has its engine messages.');
      return undefined;
    }
    const e = describeError(err, 'Doctor');
    if (!e.quiet) void vscode.window.showErrorMessage(`ContainAI: ${e.message}`);
    return undefined;
  }
}

const DOCTOR_ACTION: Record<DoctorResult['recommendedAction'], string> = {
  ready: 'ready',
  startDocker: 'start the Docker engine first',
  enableIsolation: 'enable isolation (Sysbox), or allow reduced isolation',
  buildImage: 'build the container image first',
  setupSsh: 'set up SSH first',
  fixConfig: 'fix the configuration first',
};

function doctorAction(a: DoctorResult['recommendedAction']): string {
  return DOCTOR_ACTION[a] ?? String(a);
}
