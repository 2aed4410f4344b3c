/**
 * What the status bar item and the tree's message say, computed from the store alone.
 * No `vscode` import.
 */
import { ageText, clockTime, countdown } from './format';
import { resourcesText } from './resources';
import type { ContainerStore } from './store';

export type Severity = 'error' | 'warning' | undefined;

export interface StatusBarView {
  text: string;
  tooltip: string;
  severity: Severity;
  /** for tests and the e2e: a stable word for the state shown */
  state: 'server-starting' | 'server-down' | 'engine-error' | 'loading' | 'busy' | 'absent' | 'no-workspace' | 'running' | 'stopped' | 'other';
}

export interface StatusBarOptions {
  /** Also put CPU % and memory in the item's text (setting `containai.statusBar.showResources`). */
  resourcesInText?: boolean;
  /** A sample older than this is not shown (the window lost focus, sampling paused). */
  resourcesMaxAgeMs?: number;
}

export function statusBarView(store: ContainerStore, now: number, opts: StatusBarOptions = {}): StatusBarView {
  if (store.serverState === 'starting') {
    return { text: '$(sync~spin) ContainAI', tooltip: 'ContainAI: starting the containai-rpc server…', severity: undefined, state: 'server-starting' };
  }
  if (store.serverState === 'stopped' || store.serverState === 'failed') {
    return {
      text: '$(error) ContainAI: server stopped',
      tooltip: `ContainAI: the containai-rpc server is not running${store.serverMessage ? ` — ${store.serverMessage}` : ''}. Click for actions.`,
      severity: 'error',
      state: 'server-down',
    };
  }
  const pending = store.pending;
  if (pending) {
    return { text: `$(sync~spin) ${pending.label}`, tooltip: `ContainAI: ${pending.container ?? 'workspace container'} ${pending.label}`, severity: undefined, state: 'busy' };
  }
  if (store.engineDown) {
    const e = store.engine;
    const msg = e?.health === 'error' ? e.message : store.listError ?? 'unreachable';
    const where = e?.endpoint && !msg.includes(e.endpoint) ? ` (${e.context}: ${e.endpoint})` : e?.context && !msg.includes(`'${e.context}'`) ? ` (${e.context})` : '';
    return {
      text: '$(error) Docker unreachable',
      tooltip: `ContainAI: the Docker engine is unreachable${where}: ${msg.replace(/\.$/, '')}.\nClick for actions (Doctor, server log, restart).`,
      severity: 'error',
      state: 'engine-error',
    };
  }
  if (!store.loaded) {
    return { text: '$(sync~spin) ContainAI', tooltip: 'ContainAI: loading containers…', severity: undefined, state: 'loading' };
  }
  if (store.workspacePath === undefined) {
    return { text: '$(vm-outline) ContainAI', tooltip: 'ContainAI: open a folder to run its container. Click for actions.', severity: undefined, state: 'no-workspace' };
  }
  const warn: Severity = store.engine?.health === 'warning' ? 'warning' : undefined;
  const engineLine = store.engine?.health === 'warning' ? `\nEngine: ${store.engine.message}` : '';
  const c = store.current();
  if (c === undefined) {
    const name = store.workspaceContainerName;
    return {
      text: '$(vm-outline) no container',
      tooltip: `ContainAI: this workspace has no container yet${name ? ` (it will be ${name})` : ''}. Click to run one.${engineLine}`,
      severity: warn,
      state: 'absent',
    };
  }
  const age = ageText(c, now);
  const sample = c.status === 'running' ? store.history(c)?.latest() : undefined;
  const fresh = sample && now - sample.at <= (opts.resourcesMaxAgeMs ?? 120_000) ? sample : undefined;
  const res = resourcesText(fresh);
  const extra: string[] = [];
  const left = c.status === 'running' ? countdown(c.autoStopAt, now) : undefined;
  if (left && c.autoStopAt) extra.push(`Stops when idle at ${clockTime(c.autoStopAt)} (${left}) unless used`);
  if (c.outdated) extra.push(`Outdated: ${c.outdatedReason ?? 'its template changed'} — Fresh to update`);
  if (c.host && c.host !== 'local') extra.push(`Host: ${c.host}`);
  const lines = [`ContainAI: ${c.name} — ${c.status} (${age})`, res, ...extra, `Image: ${c.image}`, c.dataVolume && `Volume: ${c.dataVolume}`, c.keep && 'Kept'];
  const tip = `${lines.filter(Boolean).join('\n')}${engineLine}\nClick for actions.`;
  if (c.status === 'running') {
    const short = opts.resourcesInText ? resourcesText(fresh, true) : undefined;
    return { text: `$(vm-running) ${c.name}${short ? `  ${short}` : ''}`, tooltip: tip, severity: warn, state: 'running' };
  }
  if (c.status === 'stopped' || c.status === 'created' || c.status === 'dead') {
    const why = c.status === 'stopped' && store.stoppedByIdle(c) ? ' (idle)' : '';
    return { text: `$(vm-outline) ${c.name}: ${c.status}${why}`, tooltip: tip, severity: c.status === 'dead' ? 'error' : warn, state: 'stopped' };
  }
  return { text: `$(vm) ${c.name}: ${c.status}`, tooltip: tip, severity: warn, state: 'other' };
}

/**
 * A message for the tree view when it should not just list containers; undefined = list them.
 * `title` fits a tree row; `text` is the whole story (the view's message and the tooltip).
 */
export function treeMessage(store: ContainerStore): { title: string; text: string; severity: Severity } | undefined {
  if (store.serverState === 'stopped' || store.serverState === 'failed') {
    return {
      title: 'ContainAI server not running',
      text: `The containai-rpc server is not running${store.serverMessage ? `: ${store.serverMessage}` : ''}. Use "ContainAI: Show Server Log" or "ContainAI: Restart Server".`,
      severity: 'error',
    };
  }
  if (store.engineDown) {
    const e = store.engine;
    const msg = e?.health === 'error' ? e.message : store.listError ?? 'unreachable';
    const at = e?.endpoint && !msg.includes(e.endpoint) ? ` at ${e.endpoint}` : '';
    return {
      title: 'Docker engine unreachable',
      text: `Docker engine unreachable${at}: ${msg.replace(/\.$/, '')}. Run "ContainAI: Doctor" for details.`,
      severity: 'error',
    };
  }
  if (store.listErrors.length > 0) {
    return {
      title: `${store.listErrors.length} context${store.listErrors.length === 1 ? '' : 's'} unreachable`,
      text: store.listErrors.map((e) => `${e.context}: ${e.message}`).join('; '),
      severity: 'warning',
    };
  }
  return undefined;
}
