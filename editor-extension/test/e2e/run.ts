/**
 * End-to-end: the packaged .vsix in a real VS Code (code-server) in headless Chromium,
 * against the real containai-rpc server and the real Docker engine.
 *
 * Env (scripts/e2e.sh sets them): CODE_SERVER, NODE24 (node for code-server), VSIX,
 * CONTAINAI_RPC_SERVER (optional, default <repo>/.venv/bin/containai-rpc),
 * CONTAINAI_E2E_IMAGE (default containai-test-tiny:latest), CHROMIUM (default /usr/bin/chromium),
 * E2E_RESULTS (screenshots; default editor-extension/test-results).
 *
 * Prints one line per step and a closing "N passed, N failed" line; exit code 1 on failure.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

const EXT_ROOT = path.resolve(__dirname, '..', '..', '..');
const REPO_ROOT = path.resolve(EXT_ROOT, '..');
const RESULTS = process.env.E2E_RESULTS ?? path.join(EXT_ROOT, 'test-results');
const IMAGE = process.env.CONTAINAI_E2E_IMAGE ?? 'containai-test-tiny:latest';
const SERVER = process.env.CONTAINAI_RPC_SERVER ?? path.join(REPO_ROOT, '.venv', 'bin', 'containai-rpc');
/** The server's command line (not the cache folder /var/cache/containai-rpc that code-server lives in). */
const SERVER_CMDLINE = new RegExp(`(^|\\s)${SERVER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`);
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/e2e.sh)`);
  return v;
}

const t0 = Date.now();
function log(msg: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

let passed = 0;
let failed = 0;
async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const s = Date.now();
  try {
    const v = await fn();
    passed++;
    log(`ok   ${name} (${Date.now() - s} ms)`);
    return v;
  } catch (err) {
    failed++;
    log(`FAIL ${name}: ${(err as Error)?.stack ?? String(err)}`);
    throw err;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000, everyMs = 50): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function docker(...args: string[]): string {
  return cp.execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function containersOf(ws: string): string[] {
  return docker('ps', '-aq', '--filter', 'label=containai.managed=true', '--filter', `label=containai.workspace=${ws}`).split('\n').filter(Boolean);
}

function makeGitWorkspace(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# e2e workspace\n');
  const env = { ...process.env, GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid' };
  for (const args of [['init', '-q', '-b', 'main'], ['add', '.'], ['commit', '-q', '-m', 'init']]) cp.execFileSync('git', args, { cwd: dir, env, stdio: 'ignore' });
}

/** Descendants of `root` (a process this script started) whose command line matches. */
function descendants(root: number, match: RegExp): number[] {
  const children = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number): void => {
    for (const c of children.get(pid) ?? []) {
      try {
        if (match.test(fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(c);
      } catch {
        // exited meanwhile
      }
      walk(c);
    }
  };
  walk(root);
  return out;
}

// ---- workbench helpers ------------------------------------------------------------------

function statusItem(page: Page): Locator {
  return page.locator('#workbench\\.parts\\.statusbar [aria-label^="ContainAI "]').first();
}

async function statusState(page: Page): Promise<{ state: string; label: string } | undefined> {
  const el = statusItem(page);
  if ((await el.count()) === 0) return undefined;
  const label = (await el.getAttribute('aria-label')) ?? '';
  const m = /^ContainAI ([a-z-]+):/.exec(label);
  return m ? { state: m[1]!, label } : undefined;
}

async function waitStatus(page: Page, states: string[], ms = 20_000): Promise<{ state: string; label: string; at: number }> {
  return until(`status bar in ${states.join('|')}`, async () => {
    const s = await statusState(page);
    return s && states.includes(s.state) ? { ...s, at: Date.now() } : undefined;
  }, ms, 25);
}

async function shot(page: Page, name: string): Promise<string> {
  const file = path.join(RESULTS, name);
  await page.screenshot({ path: file });
  log(`screenshot ${path.relative(EXT_ROOT, file)}`);
  return file;
}

async function runPaletteCommand(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  for (let attempt = 0; attempt < 5; attempt++) {
    // F1 can be swallowed while a previous quick pick is still closing: wait and retry
    await until('quick input hidden', async () => !(await widget.isVisible()), 5000);
    await page.keyboard.press('F1');
    try {
      await widget.locator('input').waitFor({ state: 'visible', timeout: 2000 });
      break;
    } catch {
      if (attempt === 4) throw new Error('the command palette did not open');
    }
  }
  const input = widget.locator('input');
  await input.fill(`>${title}`);
  const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) }).first();
  await row.waitFor({ state: 'visible', timeout: 5000 });
  await row.click();
}

async function openSidebar(page: Page): Promise<Locator> {
  const icon = page.locator('.part.activitybar [aria-label^="ContainAI"], .part.sidebar .composite-bar [aria-label^="ContainAI"]').first();
  await icon.waitFor({ state: 'visible', timeout: 15_000 });
  const view = page.locator('.pane').filter({ has: page.locator('.pane-header[aria-label^="Containers"]') }).first();
  if (!(await view.isVisible().catch(() => false))) await icon.click();
  await view.waitFor({ state: 'visible', timeout: 10_000 });
  // a wider sidebar makes the screenshots readable: drag the sash at its right edge
  const box = await page.locator('.part.sidebar').boundingBox();
  if (box && box.width < 500) {
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width + 1, y);
    await page.mouse.down();
    await page.mouse.move(box.x + 560, y, { steps: 8 });
    await page.mouse.up();
    await page.mouse.move(1000, 600);
  }
  return view;
}

function treeRow(view: Locator, name: string): Locator {
  return view.locator(`.monaco-list-row[aria-label^="${name},"]`).first();
}

async function dismissNotifications(page: Page): Promise<void> {
  // keeps later screenshots readable
  await runPaletteCommand(page, 'Notifications: Clear All Notifications');
  await until('toasts gone', async () => (await page.locator('.notifications-toasts .notification-toast:visible').count()) === 0, 3000).catch(() => undefined);
}

/** Waits until a toast has faded in (the workbench animates it), so a screenshot shows it. */
async function settled(toast: Locator): Promise<void> {
  await until('toast opaque', async () => {
    const o = await toast.evaluate((el) => {
      type El = { parentElement: El | null };
      const g = globalThis as unknown as { getComputedStyle(x: El): { opacity: string } };
      let e: El | null = el as unknown as El;
      let op = 1;
      while (e) {
        op *= Number(g.getComputedStyle(e).opacity || '1');
        e = e.parentElement;
      }
      return op;
    });
    return o > 0.98;
  }, 600, 15).catch(() => undefined);
}

// ---- main -------------------------------------------------------------------------------

async function main(): Promise<void> {
  const codeServer = need('CODE_SERVER');
  const node24 = need('NODE24');
  const vsix = path.resolve(need('VSIX'));
  fs.mkdirSync(RESULTS, { recursive: true });
  for (const f of fs.readdirSync(RESULTS)) if (f.endsWith('.png')) fs.rmSync(path.join(RESULTS, f));

  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cai-e2e-')));
  const home = path.join(scratch, 'home');
  const userData = path.join(scratch, 'user-data');
  const extDir = path.join(scratch, 'extensions');
  // the repo name becomes the container name: short and unique
  const ws = path.join(scratch, `e2e${path.basename(scratch).slice(-5).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`);
  for (const d of [home, path.join(home, '.config'), path.join(home, '.local/share'), path.join(home, '.cache'), path.join(userData, 'User'), extDir]) fs.mkdirSync(d, { recursive: true });
  makeGitWorkspace(ws);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.join(node24, 'bin')}:${process.env.PATH}`,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local/share'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_STATE_HOME: path.join(home, '.local/state'),
  };
  // the extension host of code-server is "remote": machine-scoped settings are read from
  // Machine/settings.json, the rest from User/settings.json
  const settingsFile = path.join(userData, 'User', 'settings.json');
  const machineSettingsFile = path.join(userData, 'Machine', 'settings.json');
  fs.mkdirSync(path.dirname(machineSettingsFile), { recursive: true });
  const serverEnv: Record<string, string> = { CONTAINAI_ALLOW_REDUCED_ISOLATION: '1', CONTAINAI_IMAGE: IMAGE };
  const writeSettings = (extraEnv: Record<string, string> = {}): void => {
    const containai = { 'containai.serverCommand': SERVER, 'containai.serverEnv': { ...serverEnv, ...extraEnv } };
    fs.writeFileSync(machineSettingsFile, JSON.stringify(containai, null, 2));
    fs.writeFileSync(
      settingsFile,
      JSON.stringify(
        {
          ...containai,
          'security.workspace.trust.enabled': false,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.welcomePage.walkthroughs.openOnInstall': false,
          'extensions.ignoreRecommendations': true,
          'extensions.autoCheckUpdates': false,
          'telemetry.telemetryLevel': 'off',
          'update.mode': 'none',
          'chat.disableAIFeatures': true,
          'workbench.colorTheme': 'Default Dark Modern',
          // no fade-ins: a short-lived progress notification is fully drawn when it is shot
          'workbench.reduceMotion': 'on',
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
          'window.restoreWindows': 'none',
        },
        null,
        2,
      ),
    );
  };
  writeSettings();
  log(`scratch ${scratch}; workspace ${ws}`);

  let server: cp.ChildProcess | undefined;
  let context: BrowserContext | undefined;
  let ok = false;
  try {
    await step('install the .vsix into code-server', async () => {
      const out = cp.execFileSync(codeServer, ['--extensions-dir', extDir, '--user-data-dir', userData, '--install-extension', vsix], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (!/successfully installed/i.test(out)) throw new Error(`unexpected install output: ${out}`);
    });

    const port = await freePort();
    const serverLog = fs.openSync(path.join(scratch, 'code-server.log'), 'w');
    server = cp.spawn(
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--extensions-dir', extDir, '--user-data-dir', userData, ws],
      { env, stdio: ['ignore', serverLog, serverLog], detached: true },
    );
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
    await step('code-server answers', () => until('code-server HTTP', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok, 30_000, 100));

    context = await chromium.launchPersistentContext(path.join(scratch, 'chromium'), {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      viewport: { width: 1440, height: 900 },
      headless: true,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    await page.goto(url);

    await step('workbench loads and the extension activates (status bar item)', async () => {
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 30_000 });
      await until('ContainAI status bar item', async () => (await statusState(page)) !== undefined, 30_000);
    });

    const absent = await step('status bar shows the workspace container as absent', () => waitStatus(page, ['absent', 'stopped'], 30_000));
    log(`status: ${absent.label}`);
    if (absent.state !== 'absent') throw new Error(`expected no container yet, got ${absent.label}`);

    const view = await step('the ContainAI sidebar opens with its welcome view', async () => {
      const v = await openSidebar(page);
      await v.getByText('Run a container for this workspace').waitFor({ state: 'visible', timeout: 10_000 });
      return v;
    });
    await shot(page, '01-sidebar-welcome-absent.png');

    let progressShot = false;
    const running = await step('"ContainAI: Run" from the palette → progress, status bar running, tree row', async () => {
      await runPaletteCommand(page, 'ContainAI: Run');
      // the progress notification is short-lived with the tiny image: grab it if we can
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'ContainAI:' }).filter({ has: page.locator('.monaco-progress-container') });
      const spinning = statusItem(page);
      let sawBusy = false;
      const found = await until('progress notification or running', async () => {
        if (await toast.first().isVisible().catch(() => false)) return 'toast';
        const s = await statusState(page);
        if (s?.state === 'busy') sawBusy = true;
        if (s?.state === 'running') return sawBusy ? 'busy' : 'running';
        return undefined;
      }, 30_000, 10).catch(() => 'none');
      if (found === 'toast' || found === 'busy') {
        if (found === 'toast') await settled(toast.first());
        await shot(page, '02-run-progress.png');
        progressShot = found === 'toast';
      }
      void spinning;
      const r = await waitStatus(page, ['running'], 60_000);
      const name = /: (\S+)$/.exec(r.label)?.[1] ?? '';
      if (!name) throw new Error(`no container name in ${r.label}`);
      await treeRow(view, name).waitFor({ state: 'visible', timeout: 10_000 });
      const rowLabel = (await treeRow(view, name).getAttribute('aria-label')) ?? '';
      if (!/, running, Up /.test(rowLabel)) throw new Error(`tree row: ${rowLabel}`);
      const ids = containersOf(ws);
      if (ids.length !== 1) throw new Error(`expected one container for ${ws}, found ${ids.length}`);
      return name;
    });
    log(`container ${running}; progress notification captured: ${progressShot}`);
    await page.locator('#workbench\\.parts\\.statusbar').hover();
    await shot(page, '03-running-tree-and-status-bar.png');

    await step('the status bar click offers the actions of a running container', async () => {
      await dismissNotifications(page);
      await statusItem(page).click();
      const widget = page.locator('.quick-input-widget');
      await widget.locator('.monaco-list-row', { hasText: 'Stop' }).first().waitFor({ state: 'visible', timeout: 5000 });
      const labels = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
      if (!labels.some((l) => l.includes('Stop')) || labels.some((l) => /^\s*Start\s*$/.test(l))) throw new Error(`quick pick: ${labels.join(' | ')}`);
      await shot(page, '04-status-bar-quick-pick.png');
      await page.keyboard.press('Escape');
    });

    await step('the inline Stop action on the tree row stops it; tree and status bar follow', async () => {
      const row = treeRow(view, running);
      await row.hover();
      await row.locator('.action-label[aria-label="Stop"]').click();
      await waitStatus(page, ['stopped'], 30_000);
      await until('tree row stopped', async () => /, stopped, Stopped /.test((await row.getAttribute('aria-label')) ?? ''), 10_000);
      const state = docker('inspect', '-f', '{{.State.Status}}', running);
      if (state !== 'exited') throw new Error(`docker says ${state}`);
    });
    await dismissNotifications(page);
    await page.mouse.click(1000, 600);
    await shot(page, '05-stopped-by-inline-action.png');

    const lagMs = await step('after `docker stop` from outside the UI follows within a second', async () => {
      const row = treeRow(view, running);
      await row.hover();
      await row.locator('.action-label[aria-label="Start"]').click();
      await waitStatus(page, ['running'], 30_000);
      await until('tree row running', async () => /, running, /.test((await row.getAttribute('aria-label')) ?? ''), 10_000);
      await dismissNotifications(page);
      docker('stop', '-t', '1', running);
      const stoppedAt = Date.now();
      const seen = await waitStatus(page, ['stopped'], 10_000);
      await until('tree row stopped', async () => /, stopped, /.test((await row.getAttribute('aria-label')) ?? ''), 10_000, 10);
      const lag = Math.max(seen.at, Date.now()) - stoppedAt;
      if (lag > 1000) throw new Error(`the UI followed after ${lag} ms`);
      return lag;
    });
    log(`UI followed docker stop after ${lagMs} ms`);
    await page.mouse.click(1000, 600);
    await shot(page, '06-followed-external-docker-stop.png');

    await step('the server is restarted when it dies (kill -9), and the UI comes back', async () => {
      const pids = descendants(server!.pid!, SERVER_CMDLINE);
      if (pids.length === 0) throw new Error('no containai-rpc process under code-server');
      for (const pid of pids) log(`killing ${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      await until('a new server process', () => {
        const now = descendants(server!.pid!, SERVER_CMDLINE);
        return now.length > 0 && now.every((p) => !pids.includes(p));
      }, 20_000, 100);
      await waitStatus(page, ['stopped'], 20_000);
      await until('tree row back', async () => /, stopped, /.test((await treeRow(view, running).getAttribute('aria-label')) ?? ''), 10_000);
    });

    await step('with the engine unreachable: status bar error state, tree says so', async () => {
      writeSettings({ DOCKER_HOST: `unix://${scratch}/no-engine.sock` });
      await waitStatus(page, ['engine-error'], 30_000);
      await view.getByText(/Docker engine unreachable/).first().waitFor({ state: 'visible', timeout: 15_000 });
      const bg = await statusItem(page).evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el.closest('.statusbar-item') ?? el).backgroundColor);
      log(`error item background: ${bg}`);
    });
    await dismissNotifications(page);
    await page.mouse.click(1000, 600);
    await statusItem(page).hover();
    await page.locator('.monaco-hover, .workbench-hover, [role="tooltip"]').first().waitFor({ state: 'visible', timeout: 3000 }).catch(() => undefined);
    await shot(page, '07-engine-unreachable.png');

    await step('the tree\'s error row runs Doctor, whose report lands in the output', async () => {
      await page.keyboard.press('Escape');
      await view.locator('.monaco-list-row', { hasText: 'Docker engine unreachable' }).first().click();
      const panel = page.locator('.part.panel');
      await panel.waitFor({ state: 'visible', timeout: 10_000 });
      await until('doctor report in the output', async () => /[✓✗]/.test(await panel.locator('.view-lines').first().innerText().catch(() => '')), 15_000, 100);
      const text = await panel.locator('.view-lines').first().innerText();
      if (!/Docker|engine/i.test(text)) throw new Error(`output: ${text.slice(0, 500)}`);
    });
    await page.mouse.click(1000, 300);
    await shot(page, '08-doctor-with-engine-down.png');

    await step('the extension host log has no activation errors', async () => {
      const logs: string[] = [];
      const walk = (d: string): void => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (/exthost.*\.log$|remoteexthost\.log$/.test(e.name)) logs.push(p);
        }
      };
      if (fs.existsSync(path.join(userData, 'logs'))) walk(path.join(userData, 'logs'));
      if (logs.length === 0) throw new Error('no extension host log found');
      const text = logs.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
      if (!/containai\.containai/.test(text)) throw new Error(`the extension host log does not mention containai.containai (${logs.join(', ')})`);
      const bad = text.split('\n').filter((l) => /containai/i.test(l) && /\[error\]|Activating extension .* failed|activation failed/i.test(l));
      if (bad.length) throw new Error(`errors in the extension host log:\n${bad.join('\n')}`);
      fs.copyFileSync(logs[0]!, path.join(scratch, 'exthost-copy.log'));
    });
    ok = failed === 0;
  } catch {
    ok = false;
  } finally {
    if (!ok && context) {
      const p = context.pages()[0];
      if (p) await p.screenshot({ path: path.join(RESULTS, 'zz-failure.png') }).catch(() => undefined);
    }
    await context?.close().catch(() => undefined);
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
    const ids = containersOf(ws);
    if (ids.length) docker('rm', '-f', ...ids);
    log(`removed ${ids.length} test container(s)`);
    if (ok && !process.env.E2E_KEEP_SCRATCH) fs.rmSync(scratch, { recursive: true, force: true });
    else log(`scratch kept for inspection: ${scratch} (code-server.log, user-data/logs)`);
  }
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 && ok ? 0 : 1;
}

main().catch((err) => {
  console.error(err);
  console.log(`e2e: ${passed} passed, ${failed + 1} failed`);
  process.exitCode = 1;
});
