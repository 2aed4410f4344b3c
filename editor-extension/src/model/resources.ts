/**
 * CPU and memory "at a glance": the samples `status` returned for one container (its
 * `resources`, read by the server from the container's cgroup, no `docker stats`), kept for
 * the last minutes, and their rendering as a line of text and a small SVG chart.
 * No `vscode` import.
 */
import type { Resources } from '../protocol';

export interface ResourceSample {
  at: number;
  cpuPercent?: number;
  memoryBytes?: number;
  memoryLimitBytes?: number;
  memoryText?: string;
}

/** How far back the history (and the chart) goes. */
export const HISTORY_MS = 10 * 60_000;

export class ResourceHistory {
  private readonly samplesValue: ResourceSample[] = [];

  /** A recreated container (new id) starts a new history. */
  constructor(readonly containerId: string) {}

  add(at: number, r: Resources): void {
    this.samplesValue.push({ at, cpuPercent: r.cpuPercent, memoryBytes: r.memoryBytes, memoryLimitBytes: r.memoryLimitBytes, memoryText: r.memoryText });
    while (this.samplesValue.length > 0 && at - this.samplesValue[0]!.at > HISTORY_MS) this.samplesValue.shift();
  }

  get samples(): readonly ResourceSample[] {
    return this.samplesValue;
  }

  latest(): ResourceSample | undefined {
    return this.samplesValue.at(-1);
  }
}

export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}

/** "CPU 3.2 % · memory 180 MiB / 7.8 GiB", or undefined when the sample has neither. */
export function resourcesText(s: ResourceSample | undefined, short = false): string | undefined {
  if (!s) return undefined;
  const cpu = s.cpuPercent !== undefined ? `${s.cpuPercent.toFixed(s.cpuPercent < 10 ? 1 : 0)} %` : undefined;
  const mem = s.memoryBytes !== undefined ? bytesText(s.memoryBytes) : undefined;
  if (cpu === undefined && mem === undefined) return undefined;
  if (short) return [cpu && `${cpu}`, mem].filter(Boolean).join(' · ');
  const limit = s.memoryLimitBytes !== undefined && mem !== undefined ? ` / ${bytesText(s.memoryLimitBytes)}` : '';
  return [cpu && `CPU ${cpu}`, mem && `memory ${mem}${limit}`].filter(Boolean).join(' · ');
}

/** Polyline points of `values` over [t0, t1] × [0, max] in a w×h box (y grows down). */
function points(samples: readonly ResourceSample[], pick: (s: ResourceSample) => number | undefined, t0: number, t1: number, max: number, w: number, h: number): string {
  const span = Math.max(1, t1 - t0);
  return samples
    .filter((s) => pick(s) !== undefined)
    .map((s) => `${(((s.at - t0) / span) * w).toFixed(1)},${(h - (pick(s)! / max) * h).toFixed(1)}`)
    .join(' ');
}

/** The shortest time span a chart covers, so that the first samples do not fill its width. */
export const MIN_SPAN_MS = 60_000;

/**
 * Two small line charts (CPU %, memory) of the samples of the last `HISTORY_MS` ending at
 * `now` (the time axis starts at the first of them, at least `MIN_SPAN_MS` back), as SVG
 * markup (theme colours come from the webview's CSS variables).
 */
export function historyChartSvg(samples: readonly ResourceSample[], now: number, w = 360, h = 60): string {
  const recent = samples.filter((s) => s.at >= now - HISTORY_MS);
  const t0 = Math.min(recent[0]?.at ?? now, now - MIN_SPAN_MS);
  const cpuMax = Math.max(100, ...recent.map((s) => s.cpuPercent ?? 0));
  const memMax = Math.max(1, ...recent.map((s) => s.memoryLimitBytes ?? s.memoryBytes ?? 0));
  const last = recent.at(-1);
  const chart = (cls: string, title: string, pts: string, label: string): string =>
    `<figure class="chart ${cls}"><figcaption>${title} <span class="now">${label}</span></figcaption>` +
    `<svg class="chart-svg" data-points="${pts ? pts.split(' ').length : 0}" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${title}, the last ${Math.round((now - t0) / 60_000)} minutes">` +
    `<rect x="0" y="0" width="${w}" height="${h}" class="frame"/>` +
    (pts ? `<polyline points="${pts}" class="line"/>` : `<text x="8" y="${h / 2}" class="empty">no samples yet</text>`) +
    `</svg></figure>`;
  return (
    chart('cpu', 'CPU', points(recent, (s) => s.cpuPercent, t0, now, cpuMax, w, h), last?.cpuPercent !== undefined ? `${last.cpuPercent.toFixed(1)} %` : '—') +
    chart('memory', 'Memory', points(recent, (s) => s.memoryBytes, t0, now, memMax, w, h), last?.memoryBytes !== undefined ? bytesText(last.memoryBytes) : '—')
  );
}
