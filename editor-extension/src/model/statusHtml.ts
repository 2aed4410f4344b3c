/**
 * The Status view of one container: its fields and a CPU/memory chart of the last
 * minutes, as a self-contained HTML page for a webview (no scripts). No `vscode` import.
 */
import type { StatusResult } from '../protocol';
import { HISTORY_MS, historyChartSvg, resourcesText, type ResourceSample } from './resources';

export function statusLines(st: StatusResult): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['State', `${st.status}${st.uptime ? ` — up ${st.uptime}` : ''}`],
    ['Workspace', st.workspace ?? '—'],
    ['Image', st.image],
    ['Data volume', st.dataVolume ?? '—'],
    ['SSH', st.sshPort !== undefined ? `127.0.0.1:${st.sshPort} (ssh ${st.name})` : '—'],
    ['Sessions', st.sessions ? `${st.sessions.sshConnections} ssh, ${st.sessions.activeTerminals} terminals` : st.sessionsKnown === false ? 'unknown' : '—'],
    ['Memory', st.resources?.memoryText ?? '—'],
    ['CPU', st.resources?.cpuPercent !== undefined ? `${st.resources.cpuPercent.toFixed(1)} %` : '—'],
    ['Keep', st.keep ? 'yes' : 'no'],
    ['Isolation', st.isolation ?? '—'],
    ['Context', st.context],
  ];
  if (st.partial?.length) rows.push(['Partial', `${st.partial.join(', ')} took too long`]);
  return rows;
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function statusHtml(st: StatusResult, samples: readonly ResourceSample[], now: number, cspSource: string): string {
  const rows = statusLines(st)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('');
  const live = st.status === 'running' ? historyChartSvg(samples, now) : '<p class="idle">Not running: no CPU or memory to show.</p>';
  const latest = resourcesText(samples.at(-1));
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<title>${esc(st.name)}</title>
<style>
body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 16px; }
h1 { font-size: 1.3em; margin: 0 0 8px; }
table { border-collapse: collapse; margin-bottom: 12px; }
th { text-align: left; padding: 2px 16px 2px 0; color: var(--vscode-descriptionForeground); font-weight: normal; }
td { padding: 2px 0; }
.charts { display: flex; gap: 24px; flex-wrap: wrap; }
figure { margin: 0; }
figcaption { margin-bottom: 4px; }
.now { color: var(--vscode-descriptionForeground); }
.frame { fill: none; stroke: var(--vscode-panel-border, #555); }
.line { fill: none; stroke: var(--vscode-charts-blue, #3794ff); stroke-width: 2; }
.memory .line { stroke: var(--vscode-charts-green, #89d185); }
.empty { fill: var(--vscode-descriptionForeground); font-size: 12px; }
</style></head><body>
<h1>${esc(st.name)} <span class="now">— ${esc(st.status)}</span></h1>
<table>${rows}</table>
<h2>CPU and memory, up to the last ${HISTORY_MS / 60_000} minutes${latest ? ` <span class="now">(${esc(latest)})</span>` : ''}</h2>
<div class="charts">${live}</div>
</body></html>`;
}
