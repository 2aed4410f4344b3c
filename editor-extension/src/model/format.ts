/**
 * Rendering of containers for the tree, the status bar and quick picks: pure functions of
 * the protocol data and "now". No `vscode` import.
 */
import type { ContainerStatus, ContainerSummary } from '../protocol';

export type Status = ContainerStatus | 'removed';

// ---- durations and ages --------------------------------------------------------------

/** "< 1 min", "5 min", "3 h", "2 d". Stable within a minute, so the tree does not churn. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 60_000) return '< 1 min';
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} d`;
}

export function parseTime(ts: string | undefined): number | undefined {
  if (!ts) return undefined;
  const t = Date.parse(ts);
  // Docker's "zero" time (0001-01-01T00:00:00Z) means "never"
  if (!Number.isFinite(t) || t <= 0) return undefined;
  return t;
}

/** "Up 3 h", "Stopped 2 d", "Created 5 min", rendered locally from the timestamps. */
export function ageText(c: ContainerSummary, now: number): string {
  const since = (ts: string | undefined): string | undefined => {
    const t = parseTime(ts);
    return t === undefined ? undefined : formatDuration(Math.max(0, now - t));
  };
  switch (c.status) {
    case 'running': {
      const d = since(c.startedAt);
      return d ? `Up ${d}` : 'Up';
    }
    case 'stopped':
    case 'dead': {
      const word = c.status === 'dead' ? 'Dead' : 'Stopped';
      const d = since(c.finishedAt) ?? since(c.startedAt);
      return d ? `${word} ${d}` : word;
    }
    case 'created': {
      const d = since(c.createdAt);
      return d ? `Created ${d} ago` : 'Created';
    }
    case 'paused':
      return 'Paused';
    case 'restarting':
      return 'Restarting';
    case 'removed':
      return 'Removed';
    default:
      return String(c.status);
  }
}

// ---- icons ---------------------------------------------------------------------------

export interface IconSpec {
  /** codicon id */
  id: string;
  /** theme colour id, if any */
  color?: string;
}

export function stateIcon(status: Status | string): IconSpec {
  switch (status) {
    case 'running':
      return { id: 'vm-running', color: 'charts.green' };
    case 'stopped':
      return { id: 'vm-outline', color: 'disabledForeground' };
    case 'created':
      return { id: 'vm-outline', color: 'charts.blue' };
    case 'paused':
      return { id: 'debug-pause', color: 'charts.yellow' };
    case 'restarting':
      return { id: 'sync~spin', color: 'charts.yellow' };
    case 'dead':
      return { id: 'error', color: 'charts.red' };
    default:
      return { id: 'question' };
  }
}

/** "14:05" (local time) of an RFC 3339 timestamp. */
export function clockTime(ts: string): string {
  const t = parseTime(ts);
  if (t === undefined) return ts;
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** "in 12 min" until an RFC 3339 timestamp, or undefined when it is unknown or past. */
export function countdown(ts: string | undefined, now: number): string | undefined {
  const t = parseTime(ts);
  if (t === undefined || t <= now) return undefined;
  return `in ${formatDuration(t - now).replace('< 1 min', 'under a minute')}`;
}

// ---- tree rows -----------------------------------------------------------------------

/** `containaiContainer.<status>[.kept][.ssh][.current]` — menus match it with `when` regexes. */
export function contextValue(c: ContainerSummary, isCurrent: boolean): string {
  const parts = ['containaiContainer', c.status];
  parts.push(c.keep ? 'kept' : 'unkept');
  if (c.sshPort !== undefined) parts.push('ssh');
  if (isCurrent) parts.push('current');
  if (c.outdated) parts.push('outdated');
  return parts.join('.');
}

/** The row's description: "Up 3 h · ~/src/myapp", or "Up 3 h · this workspace" for the current one. */
export function rowDescription(c: ContainerSummary, now: number, home?: string, isCurrent = false): string {
  const bits = [ageText(c, now)];
  if (isCurrent) bits.push('this workspace');
  else if (c.workspace) bits.push(shortPath(c.workspace, home));
  if (c.keep) bits.push('kept');
  if (c.outdated) bits.push('outdated');
  return bits.join(' · ');
}

export function shortPath(p: string, home?: string): string {
  if (home && home.length > 1 && (p === home || p.startsWith(home + '/'))) return '~' + p.slice(home.length);
  return p;
}

/** Tooltip lines (markdown-safe plain text pairs). */
export function tooltipFields(c: ContainerSummary, now: number): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['State', `${c.status}${c.dockerState && c.dockerState !== c.status ? ` (docker: ${c.dockerState})` : ''} — ${ageText(c, now)}`],
    ['Workspace', c.workspace ?? '—'],
    ['Image', c.image],
    ['Data volume', c.dataVolume ?? '—'],
    ['SSH port', c.sshPort !== undefined ? `127.0.0.1:${c.sshPort}` : '—'],
    ['Keep', c.keep ? 'yes (garbage collection skips it)' : 'no'],
    ['Context', c.context],
  ];
  if (c.host && c.host !== 'local') rows.push(['Host', c.host]);
  if (c.template) rows.push(['Template', c.template]);
  if (c.outdated) rows.push(['Outdated', `${c.outdatedReason ?? 'its template changed'} — Fresh updates it (same volume)`]);
  if (c.autoStopAt && c.status === 'running') rows.push(['Idle stop', `at ${clockTime(c.autoStopAt)} unless used (${c.idleStop ?? 'on'})`]);
  return rows;
}

export function tooltipMarkdown(c: ContainerSummary, now: number): string {
  const esc = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (m) => '\\' + m);
  const lines = [`**${esc(c.name)}**`, '', ...tooltipFields(c, now).map(([k, v]) => `${esc(k)}: ${esc(v)}  `)];
  return lines.join('\n');
}

// ---- actions -------------------------------------------------------------------------

export type ActionId =
  | 'run'
  | 'start'
  | 'stop'
  | 'fresh'
  | 'status'
  | 'stopAndRemove'
  | 'reset'
  | 'keep'
  | 'unkeep'
  | 'openShell'
  | 'openRemoteSsh'
  | 'copySshCommand'
  | 'openAgentSession'
  | 'postponeIdleStop'
  | 'doctor'
  | 'showServerLog'
  | 'restartServer';

export interface ActionSpec {
  id: ActionId;
  label: string;
  description?: string;
  destructive?: boolean;
}

const LABELS: Record<ActionId, ActionSpec> = {
  run: { id: 'run', label: '$(play) Run', description: 'create and start this workspace\'s container' },
  start: { id: 'start', label: '$(play) Start', description: 'start the stopped container' },
  stop: { id: 'stop', label: '$(debug-stop) Stop' },
  fresh: { id: 'fresh', label: '$(refresh) Fresh', description: 'recreate the container, keep the data volume' },
  status: { id: 'status', label: '$(info) Status' },
  stopAndRemove: { id: 'stopAndRemove', label: '$(trash) Stop and Remove', description: 'the data volume is kept', destructive: true },
  reset: { id: 'reset', label: '$(discard) Reset', description: 'new container and new data volume', destructive: true },
  keep: { id: 'keep', label: '$(pinned) Keep', description: 'protect from garbage collection' },
  unkeep: { id: 'unkeep', label: '$(pin) Unkeep' },
  openShell: { id: 'openShell', label: '$(terminal) Open Shell' },
  openRemoteSsh: { id: 'openRemoteSsh', label: '$(remote) Open in Remote-SSH' },
  copySshCommand: { id: 'copySshCommand', label: '$(copy) Copy SSH Command' },
  openAgentSession: { id: 'openAgentSession', label: '$(hubot) Open Agent Session…', description: 'the agent in a terminal, in the container' },
  postponeIdleStop: { id: 'postponeIdleStop', label: '$(clock) Keep Running', description: 'postpone the idle auto-stop' },
  doctor: { id: 'doctor', label: '$(checklist) Doctor', description: 'check the engine, isolation, SSH' },
  showServerLog: { id: 'showServerLog', label: '$(output) Show Server Log' },
  restartServer: { id: 'restartServer', label: '$(debug-restart) Restart Server' },
};

export function actionSpec(id: ActionId): ActionSpec {
  return LABELS[id];
}

/**
 * The statuses `run` starts or attaches to as they are. It refuses any other
 * (`unexpectedState`: paused, restarting, dead), so those are offered Fresh, never Start.
 * The tree's menus say the same with `when` regexes in package.json.
 */
export const RUN_REUSES: readonly string[] = ['running', 'stopped', 'created'];

/**
 * The actions valid for the workspace's container in its state (status-bar quick pick).
 * `c` undefined = no container yet.
 */
export function actionsFor(c: ContainerSummary | undefined, opts: { engineDown?: boolean } = {}): ActionSpec[] {
  const ids: ActionId[] = [];
  if (opts.engineDown) {
    ids.push('doctor', 'showServerLog', 'restartServer');
    return ids.map(actionSpec);
  }
  if (c === undefined) {
    ids.push('run', 'doctor', 'showServerLog');
    return ids.map(actionSpec);
  }
  switch (c.status) {
    case 'running':
      ids.push('stop', 'status', 'fresh');
      if (c.sshPort !== undefined) ids.push('openAgentSession', 'openShell', 'openRemoteSsh', 'copySshCommand');
      if (c.autoStopAt) ids.push('postponeIdleStop');
      break;
    case 'stopped':
    case 'created':
      ids.push('start', 'status', 'fresh');
      break;
    case 'paused':
    case 'restarting':
      ids.push('status', 'fresh', 'stop');
      break;
    default: // dead (or a state this client does not know): run refuses it, fresh recreates it
      ids.push('status', 'fresh');
  }
  ids.push(c.keep ? 'unkeep' : 'keep', 'stopAndRemove', 'reset', 'doctor', 'showServerLog');
  const specs = ids.map(actionSpec);
  if (!c.outdated) return specs;
  // an outdated container: Fresh rebuilds it from its changed template, first in the list
  const fresh = { ...actionSpec('fresh'), label: '$(refresh) Fresh to Update', description: c.outdatedReason ?? 'its template changed' };
  return [fresh, ...specs.filter((s) => s.id !== 'fresh')];
}
