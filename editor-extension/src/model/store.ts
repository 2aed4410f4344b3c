/**
 * The extension's state: what the server told us, nothing polled.
 *
 * Fed by `containai/list` (a snapshot with a revision), `containai/containerChanged`
 * (revision + full snapshot of one container) and `containai/engineStatus`. A change whose
 * revision is not `last + 1` is applied and reported as a gap, so the caller re-lists.
 *
 * No `vscode` import: tested directly with `node --test`.
 */
import { ResourceHistory } from './resources';
import type {
  ContainerChangedParams,
  Resources,
  ContainerSummary,
  EngineStatusParams,
  ListResult,
  StatusResult,
} from '../protocol';

export type ServerState = 'starting' | 'running' | 'stopped' | 'failed';

/** An operation the extension started and has not seen finish (drives `sync~spin`). */
export interface PendingOp {
  /** e.g. "starting…", "stopping…" */
  label: string;
  /** container name, or undefined for "the workspace's container" */
  container?: string;
}

export interface ApplyOutcome {
  /** true when the notification skipped revisions (or came before any list): re-list. */
  gap: boolean;
  /** false for stale notifications (revision not newer than what we have). */
  applied: boolean;
}

type Listener = () => void;

export class ContainerStore {
  private readonly byKey = new Map<string, ContainerSummary>();
  private revisionValue: number | undefined;
  private readonly enginesValue = new Map<string, EngineStatusParams>();
  private workspaceContextValue: string | undefined;
  private readonly historyValue = new Map<string, ResourceHistory>();
  private readonly idleStoppedValue = new Set<string>();
  private listErrorValue: string | undefined;
  private listErrorsValue: Array<{ context: string; message: string }> = [];
  private serverStateValue: ServerState = 'starting';
  private serverMessageValue: string | undefined;
  private loadedValue = false;
  private pendingValue: PendingOp | undefined;
  private workspaceNameValue: string | undefined;
  private readonly listeners = new Set<Listener>();

  /** @param workspacePath the current workspace folder (normalised like the server does), if any */
  constructor(private workspacePathValue?: string) {}

  // ---- events ------------------------------------------------------------------------

  onDidChange(listener: Listener): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  private fire(): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch {
        // a broken listener must not break the others
      }
    }
  }

  // ---- inputs ------------------------------------------------------------------------

  setWorkspacePath(path: string | undefined): void {
    this.workspacePathValue = path;
    this.fire();
  }

  /** The name the server gave the workspace's container (from run/status), if known. */
  setWorkspaceContainerName(name: string | undefined): void {
    if (this.workspaceNameValue === name) return;
    this.workspaceNameValue = name;
    this.fire();
  }

  setServerState(state: ServerState, message?: string): void {
    this.serverStateValue = state;
    this.serverMessageValue = message;
    if (state !== 'running') {
      // what we knew may be stale now; the next list after a restart replaces it
      this.revisionValue = undefined;
    }
    if (state === 'starting') {
      // a (re)started server reports the engine afresh: do not keep showing the old verdict
      this.enginesValue.clear();
      this.listErrorValue = undefined;
      this.listErrorsValue = [];
      this.loadedValue = false;
    }
    this.fire();
  }

  setPending(op: PendingOp | undefined): void {
    this.pendingValue = op;
    this.fire();
  }

  applyList(result: ListResult): void {
    // a re-list that finds nothing new (window focus, a template edit that changed nothing
    // listed) does not re-render: a click landing on a re-rendered row would be lost
    const same =
      this.loadedValue &&
      this.listErrorValue === undefined &&
      JSON.stringify(result.errors ?? []) === JSON.stringify(this.listErrorsValue) &&
      result.containers.length === this.byKey.size &&
      result.containers.every((c) => JSON.stringify(c) === JSON.stringify(this.byKey.get(key(c))));
    this.revisionValue = result.revision;
    if (same) return;
    this.byKey.clear();
    for (const c of result.containers) this.byKey.set(key(c), c);
    this.revisionValue = result.revision;
    this.listErrorsValue = result.errors ?? [];
    this.listErrorValue = undefined;
    this.loadedValue = true;
    this.fire();
  }

  /** `containai/list` itself failed (server error, engine unreachable…). */
  setListError(message: string | undefined): void {
    this.listErrorValue = message;
    if (message !== undefined) this.loadedValue = true;
    this.fire();
  }

  applyChange(change: ContainerChangedParams): ApplyOutcome {
    const last = this.revisionValue;
    if (last !== undefined && change.revision <= last) {
      return { gap: false, applied: false };
    }
    const gap = last === undefined || change.revision !== last + 1;
    this.revisionValue = change.revision;
    const c = change.container;
    // "stopped (idle)" until it runs again: the server says why in `reason`
    if (change.reason === 'idle') this.idleStoppedValue.add(key(c));
    else if (c.status === 'running' || change.kind === 'removed') this.idleStoppedValue.delete(key(c));
    // a container is identified by name+context; a recreate changes its id, not its name
    if (change.kind === 'removed' || c.status === 'removed') {
      this.byKey.delete(key(c));
      for (const [k, v] of this.byKey) if (v.id === c.id) this.byKey.delete(k);
    } else {
      for (const [k, v] of this.byKey) if (v.id === c.id && k !== key(c)) this.byKey.delete(k);
      this.byKey.set(key(c), c);
    }
    this.fire();
    return { gap, applied: true };
  }

  /** Health is per context: one healthy context never hides a dead one, nor the reverse. */
  applyEngineStatus(status: EngineStatusParams): void {
    this.enginesValue.set(status.context, status);
    this.fire();
  }

  /** The context the workspace's container lives (or will live) in, from run/status. */
  setWorkspaceContext(context: string | undefined): void {
    if (this.workspaceContextValue === context) return;
    this.workspaceContextValue = context;
    this.fire();
  }

  /** A `resources` sample from `status` (CPU %, memory), kept as a short history per container. */
  recordResources(c: Pick<ContainerSummary, 'id' | 'name' | 'context'>, r: Resources | undefined, at: number): void {
    const k = key(c);
    let h = this.historyValue.get(k);
    if (!h || h.containerId !== c.id) {
      h = new ResourceHistory(c.id);
      this.historyValue.set(k, h);
    }
    if (r) h.add(at, r);
    this.fire();
  }

  /** A single container learned from a request result (run/status/keep). */
  upsert(c: ContainerSummary): void {
    if (c.status === 'removed') this.byKey.delete(key(c));
    else this.byKey.set(key(c), c);
    this.fire();
  }

  // ---- outputs -----------------------------------------------------------------------

  get revision(): number | undefined {
    return this.revisionValue;
  }
  /**
   * The engine of the workspace's own context; while that is unknown (nothing learned yet,
   * e.g. the engine was down from the start), the worst one reported.
   */
  get engine(): EngineStatusParams | undefined {
    const ctx = this.workspaceContext;
    if (ctx !== undefined) return this.enginesValue.get(ctx);
    const all = [...this.enginesValue.values()];
    return all.find((e) => e.health === 'error') ?? all.find((e) => e.health === 'warning') ?? all[0];
  }
  engineOf(context: string): EngineStatusParams | undefined {
    return this.enginesValue.get(context);
  }
  /** The last report of every context the server watches (it manages exactly these). */
  get engineReports(): EngineStatusParams[] {
    return [...this.enginesValue.values()];
  }
  get workspaceContext(): string | undefined {
    return this.current()?.context ?? this.workspaceContextValue;
  }
  /** Every context we know of: from containers, engine reports and list errors; the workspace's first. */
  contexts(): string[] {
    const names = new Set<string>();
    for (const c of this.byKey.values()) names.add(c.context);
    for (const k of this.enginesValue.keys()) names.add(k);
    for (const e of this.listErrorsValue) names.add(e.context);
    const ws = this.workspaceContext;
    return [...names].sort((a, b) => Number(b === ws) - Number(a === ws) || a.localeCompare(b));
  }
  /** Its last stop was the idle auto-stop (and it has not run since). */
  stoppedByIdle(c: Pick<ContainerSummary, 'name' | 'context'>): boolean {
    return this.idleStoppedValue.has(key(c));
  }
  history(c: Pick<ContainerSummary, 'id' | 'name' | 'context'>): ResourceHistory | undefined {
    const h = this.historyValue.get(key(c));
    return h && h.containerId === c.id ? h : undefined;
  }
  get listError(): string | undefined {
    return this.listErrorValue;
  }
  get listErrors(): ReadonlyArray<{ context: string; message: string }> {
    return this.listErrorsValue;
  }
  get serverState(): ServerState {
    return this.serverStateValue;
  }
  get serverMessage(): string | undefined {
    return this.serverMessageValue;
  }
  /** true once a list answered (or failed): before that the UI shows "loading". */
  get loaded(): boolean {
    return this.loadedValue;
  }
  get pending(): PendingOp | undefined {
    return this.pendingValue;
  }
  get workspacePath(): string | undefined {
    return this.workspacePathValue;
  }
  get workspaceContainerName(): string | undefined {
    return this.workspaceNameValue;
  }

  /** The workspace's engine is known to be unreachable (its engineStatus is error, or list failed). */
  get engineDown(): boolean {
    return this.engine?.health === 'error' || this.listErrorValue !== undefined;
  }

  get containers(): ContainerSummary[] {
    return [...this.byKey.values()];
  }

  isCurrent(c: ContainerSummary): boolean {
    if (this.workspacePathValue !== undefined && c.workspace !== undefined) {
      return samePath(c.workspace, this.workspacePathValue);
    }
    return this.workspaceNameValue !== undefined && c.name === this.workspaceNameValue;
  }

  /** The current workspace's container, if one exists. */
  current(): ContainerSummary | undefined {
    const all = this.containers;
    return (
      all.find((c) => this.workspacePathValue !== undefined && c.workspace !== undefined && samePath(c.workspace, this.workspacePathValue)) ??
      all.find((c) => this.workspaceNameValue !== undefined && c.name === this.workspaceNameValue)
    );
  }

  /** Tree order: the workspace's container first, then running ones, then by name. */
  sorted(): ContainerSummary[] {
    const rank = (c: ContainerSummary): number => (this.isCurrent(c) ? 0 : c.status === 'running' ? 1 : 2);
    return this.containers.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name) || a.context.localeCompare(b.context));
  }

  find(name: string, context?: string): ContainerSummary | undefined {
    if (context !== undefined) return this.byKey.get(`${context}\u0000${name}`);
    return this.containers.find((c) => c.name === name);
  }
}

function key(c: Pick<ContainerSummary, 'name' | 'context'>): string {
  return `${c.context}\u0000${c.name}`;
}

/** Paths as the server writes them: absolute, no trailing slash. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  return norm(a) === norm(b);
}

/** The summary part of a status result (what the store keeps). */
export function stripStatus(st: StatusResult): ContainerSummary {
  const { uptime: _u, sessions: _s, sessionsKnown: _k, resources: _r, partial: _p, isolation: _i, volumeMismatch: _v, ...summary } = st;
  return summary;
}
