/**
 * The Status view: one webview panel showing a container's status and its CPU/memory chart.
 * While the panel is visible, the window focused and the container running, it asks
 * `status` again every `intervalMs` (the server reads the container's cgroup: no `docker
 * stats`), so the chart grows; hidden or unfocused, it asks nothing.
 */
import * as vscode from 'vscode';
import type { StatusResult } from './protocol';
import { statusHtml } from './model/statusHtml';
import type { Deps } from './commands/deps';
import { stripStatus } from './model/store';

export class StatusPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private shown: StatusResult | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly subs: Array<{ dispose(): void }> = [];

  constructor(
    private readonly deps: Deps,
    private readonly intervalMs: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.subs.push(
      deps.store.onDidChange(() => this.render()),
      vscode.window.onDidChangeWindowState(() => this.schedule()),
    );
  }

  /** Opens (or reveals) the panel for `st`. */
  show(st: StatusResult): void {
    this.shown = st;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('containai.status', `Status: ${st.name}`, vscode.ViewColumn.Active, { enableScripts: false, retainContextWhenHidden: false });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
        this.shown = undefined;
        this.schedule();
      });
      this.panel.onDidChangeViewState(() => this.schedule());
    } else {
      this.panel.title = `Status: ${st.name}`;
      this.panel.reveal();
    }
    this.render();
    this.schedule();
  }

  private render(): void {
    const st = this.shown;
    if (!this.panel || !st) return;
    const live = this.deps.store.find(st.name, st.context);
    const current = live ? { ...st, ...live } : st;
    const samples = this.deps.store.history(current)?.samples ?? [];
    this.panel.webview.html = statusHtml(current, samples, this.now(), this.panel.webview.cspSource);
  }

  private schedule(): void {
    const want = this.panel !== undefined && this.panel.visible && vscode.window.state.focused && this.shown?.status === 'running';
    if (want && !this.timer) {
      this.timer = setInterval(() => void this.refresh(), this.intervalMs());
    } else if (!want && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async refresh(): Promise<void> {
    const st = this.shown;
    if (!st) return;
    const latest = this.deps.store.history(st)?.latest();
    if (latest && this.now() - latest.at < this.intervalMs() / 2) return; // the status bar's sampler just asked
    try {
      const fresh = await this.deps.api().status({ container: st.name, context: st.context });
      this.deps.store.upsert(stripStatus(fresh));
      this.shown = fresh;
      this.deps.store.recordResources(fresh, fresh.resources, this.now());
    } catch {
      // gone or unreachable: the tree says so; the panel keeps the last figures
    }
    this.schedule();
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel?.dispose();
  }
}
