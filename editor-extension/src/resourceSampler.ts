/**
 * CPU % and memory of the workspace's container for the status bar: `status` every
 * `intervalMs`, only while the window is focused, the server runs and the container runs.
 * The server reads the container's cgroup counters (no `docker stats`).
 */
import * as vscode from 'vscode';
import type { Deps } from './commands/deps';
import { stripStatus } from './model/store';

export class ResourceSampler implements vscode.Disposable {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly subs: Array<{ dispose(): void }> = [];
  private busy = false;
  private lastTry: number | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly intervalMs: () => number,
    private readonly focused: () => boolean = () => vscode.window.state.focused,
    private readonly now: () => number = Date.now,
  ) {
    this.subs.push(
      deps.store.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeWindowState(() => this.schedule()),
    );
    this.schedule();
  }

  /** Should we sample now? */
  active(): boolean {
    const s = this.deps.store;
    return this.focused() && s.serverState === 'running' && !s.engineDown && s.current()?.status === 'running';
  }

  private schedule(): void {
    if (this.active()) {
      if (!this.timer && !this.busy) this.timer = setTimeout(() => void this.sample(), this.dueIn());
    } else if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  /** Right away when the last try is old (e.g. focus came back), else at the next interval. */
  private dueIn(): number {
    return this.lastTry === undefined ? 0 : Math.max(0, this.lastTry + this.intervalMs() - this.now());
  }

  private async sample(): Promise<void> {
    this.timer = undefined;
    const c = this.deps.store.current();
    if (!c || !this.active()) return;
    this.busy = true;
    this.lastTry = this.now();
    try {
      const st = await this.deps.api().status({ container: c.name, context: c.context });
      this.deps.store.upsert(stripStatus(st));
      this.deps.store.recordResources(st, st.resources, this.now());
    } catch {
      // the next notification or list says what happened; try again at the next interval
    } finally {
      this.busy = false;
    }
    this.schedule();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs.splice(0)) s.dispose();
  }
}
