/**
 * The extension's state: what the server told us, nothing polled.
 *
 * Fed by `containai/list` (a snapshot with a revision), `containai/containerChanged`
 * (revision + full snapshot of one container) and `containai/engineStatus`. A change whose
 * revision is not `last + 1` is applied and reported as a gap, so the caller re-lists.
 *
 * No `vscode` import: tested directly with `node --test`.
 */
import type {
  ContainerChangedParams,
  ContainerSummary,
  EngineStatusParams,
  ListResult,
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
  private engineValue: EngineStatusParams | undefined;
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
      this.engineValue = undefined;
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

  applyEngineStatus(status: EngineStatusParams): void {
    this.engineValue = status;
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
  get engine(): EngineStatusParams | undefined {
    return this.engineValue;
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

  /** The engine is known to be unreachable (engineStatus error, or list failed). */
  get engineDown(): boolean {
    return this.engineValue?.health === 'error' || this.listErrorValue !== undefined;
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

function key(c: ContainerSummary): string {
  return `${c.context}\u0000${c.name}`;
}

/** Paths as the server writes them: absolute, no trailing slash. */
export function samePath(a: string, b: string): boolean {
  const norm = (p: string): string => (p.length > 1 ? p.replace(/\/+$/, '') : p);
  return norm(a) === norm(b);
}
