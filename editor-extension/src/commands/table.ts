/**
 * THE command table: every command the extension contributes, with the action id it stands
 * for (buttons and quick picks name actions; this maps them to commands). Registration, the
 * action → command map and the unit test that checks package.json all derive from it.
 */
import * as vscode from 'vscode';
import type { ActionId } from '../model/format';
import type { Deps } from './deps';
import { backUp, doctor, setKeep, status, type StatusSink } from './inspect';
import { run, runOnContext, stop } from './lifecycle';
import { gc, statusBarActions } from './maintenance';
import { openAgentSession, postponeIdleStop } from './session';
import { copySshCommand, openRemoteSsh, openShell } from './ssh';

/** What the handlers get besides `Deps`. */
export interface CommandContext {
  deps: Deps;
  statusView: StatusSink;
  /** The e2e reads the state through `containai._debugState`. */
  debugState(): unknown;
}

export interface CommandSpec {
  id: `containai.${string}`;
  /** The action a button or quick-pick item names to run this command. */
  action?: ActionId;
  run(ctx: CommandContext, arg?: unknown): unknown;
}

export const COMMANDS: readonly CommandSpec[] = [
  { id: 'containai.run', action: 'run', run: (c, arg) => run(c.deps, arg, 'run') },
  { id: 'containai.runOnContext', run: (c) => runOnContext(c.deps) },
  { id: 'containai.start', action: 'start', run: (c, arg) => run(c.deps, arg, 'run') },
  { id: 'containai.fresh', action: 'fresh', run: (c, arg) => run(c.deps, arg, 'fresh') },
  { id: 'containai.reset', action: 'reset', run: (c, arg) => run(c.deps, arg, 'reset') },
  { id: 'containai.stop', action: 'stop', run: (c, arg) => stop(c.deps, arg, false) },
  { id: 'containai.stopAndRemove', action: 'stopAndRemove', run: (c, arg) => stop(c.deps, arg, true) },
  { id: 'containai.status', action: 'status', run: (c, arg) => status(c.deps, c.statusView, arg) },
  { id: 'containai.keep', action: 'keep', run: (c, arg) => setKeep(c.deps, arg, true) },
  { id: 'containai.unkeep', action: 'unkeep', run: (c, arg) => setKeep(c.deps, arg, false) },
  { id: 'containai.backUp', run: (c, arg) => backUp(c.deps, arg) },
  { id: 'containai.openShell', action: 'openShell', run: (c, arg) => openShell(c.deps, arg) },
  { id: 'containai.openRemoteSsh', action: 'openRemoteSsh', run: (c, arg) => openRemoteSsh(c.deps, arg) },
  { id: 'containai.copySshCommand', action: 'copySshCommand', run: (c, arg) => copySshCommand(c.deps, arg) },
  { id: 'containai.openAgentSession', action: 'openAgentSession', run: (c, arg) => openAgentSession(c.deps, arg) },
  { id: 'containai.postponeIdleStop', action: 'postponeIdleStop', run: (c, arg) => postponeIdleStop(c.deps, arg) },
  { id: 'containai.gc', run: (c) => gc(c.deps) },
  { id: 'containai.doctor', action: 'doctor', run: (c) => doctor(c.deps) },
  { id: 'containai.showServerLog', action: 'showServerLog', run: (c) => c.deps.output.show(true) },
  { id: 'containai.restartServer', action: 'restartServer', run: (c) => c.deps.restartServer() },
  { id: 'containai.refresh', run: (c) => c.deps.relist() },
  { id: 'containai.statusBarActions', run: (c) => statusBarActions(c.deps) },
  { id: 'containai._debugState', run: (c) => c.debugState() },
];

/** The command that runs an action. */
export function commandOf(action: ActionId): string {
  const spec = COMMANDS.find((c) => c.action === action);
  if (!spec) throw new Error(`no command for action ${action}`);
  return spec.id;
}

export function registerCommands(ctx: CommandContext): vscode.Disposable[] {
  return COMMANDS.map((spec) => vscode.commands.registerCommand(spec.id, (arg?: unknown) => spec.run(ctx, arg)));
}
