/**
 * The steps, in the order a user meets them. Each clicks something in the workbench and
 * asserts the effect where it happens (the engine, the container, the clipboard), then
 * takes a screenshot.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import type { Locator, Page } from 'playwright-core';
import type { EngineProxy } from './engineProxy';
import type { PrivateEngine } from './privateEngine';
import type { Steps } from './run';
import { containersOf, docker, EXT_ROOT, IMAGE, inspect, SERVER, type E2eEnv } from './setup';
import * as wb from './workbench';
import { faults } from './faults';
import { packRemoteSshStub } from './remoteSshStub';
import { templateAndIdle, useTemplate } from './templateIdle';

export interface ScenarioArgs {
  page: Page;
  codeServer: string;
  steps: Steps;
  env: E2eEnv;
  proxy: EngineProxy;
  /** The second engine that answers, started by the Run picker's steps. */
  near: PrivateEngine;
  results: string;
  codeServerPid: number;
}

export interface Ctx extends ScenarioArgs {
  view: Locator;
  name: string;
  /** screenshot NN-<slug>.png, numbered in order */
  snap(slug: string): Promise<string>;
}

const execFile = util.promisify(cp.execFile);

/** Everything the "ContainAI Server" output channel wrote, from the workbench's log files. */
function outputLogs(userData: string): string {
  const texts: string[] = [];
  const walk = (d: string): void => {
    for (const x of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, x.name);
      if (x.isDirectory()) walk(p);
      else if (x.name.endsWith('ContainAI Server.log')) texts.push(fs.readFileSync(p, 'utf8'));
    }
  };
  walk(path.join(userData, 'logs'));
  return texts.join('\n');
}

function containerExec(name: string, script: string): string {
  return docker('exec', name, 'sh', '-c', script);
}

export async function scenario(a: ScenarioArgs): Promise<void> {
  const { page, env: e } = a;
  const step = a.steps.step.bind(a.steps);
  let n = 0;
  const snap = (slug: string): Promise<string> => wb.shot(page, a.results, `${String(++n).padStart(2, '0')}-${slug}.png`);

  // in the background while the workbench loads: awaited by the garbage collection step
  // the workspace's container is built from a template (edited later: outdated)
  useTemplate(e, IMAGE);
  const stale = step('a stopped container of another workspace exists (for garbage collection)', async () => {
    const cai = path.join(path.dirname(SERVER), 'cai');
    // straight to the engine (this process relays the proxy: a synchronous call through it would hang)
    const env: NodeJS.ProcessEnv = { ...process.env, ...e.serverEnv, CONTAINAI_IMAGE: 'containai-test-tiny:latest' };
    delete env.DOCKER_HOST;
    // its own (empty) config: not the workspace's template
    const plain = path.join(e.scratch, 'plain-config.toml');
    fs.writeFileSync(plain, '');
    await execFile(cai, ['run', '--json', '--config', plain, '-w', e.otherWs], { env, timeout: 60_000 });
    await execFile(cai, ['stop', '-w', e.otherWs], { env, timeout: 60_000 });
    const ids = containersOf(e.otherWs);
    if (ids.length !== 1 || inspect(ids[0]!).state !== 'exited') throw new Error(`expected one stopped container for ${e.otherWs}`);
    return Date.now();
  });
  stale.catch(() => undefined);

  await step('workbench loads, the extension activates, the status bar says "no container"', async () => {
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 30_000 });
    const s = await wb.waitStatus(page, ['absent', 'stopped', 'running'], 45_000);
    if (s.state !== 'absent') throw new Error(`expected no container yet, got ${s.label}`);
  });
  const view = await step('the ContainAI sidebar opens with its welcome view', async () => {
    const v = await wb.openSidebar(page);
    await v.getByText('Run a container for this workspace').waitFor({ state: 'visible', timeout: 10_000 });
    return v;
  });
  await snap('sidebar-welcome-absent');

  const name = await step('"ContainAI: Run" from the palette: progress notification, then running in the status bar and the tree', async () => {
    await wb.runPaletteCommand(page, 'ContainAI: Run');
    const progress = wb.toast(page, /ContainAI: Running/).filter({ has: page.locator('.monaco-progress-container') });
    await progress.waitFor({ state: 'visible', timeout: 10_000 });
    await snap('run-progress');
    const r = await wb.waitStatus(page, ['running'], 90_000);
    const nm = /: (\S+)$/.exec(r.label)?.[1] ?? '';
    await wb.treeRow(view, nm).waitFor({ state: 'visible', timeout: 10_000 });
    if (!/, running, Up /.test(await wb.rowLabel(view, nm))) throw new Error(`tree row: ${await wb.rowLabel(view, nm)}`);
    if (containersOf(e.ws).length !== 1) throw new Error(`expected one container for ${e.ws}`);
    return nm;
  });
  const first = inspect(name);
  wb.log(`container ${name} ${first.id.slice(0, 12)} on volume ${first.volume}`);
  const c: Ctx = { ...a, view, name, snap };

  await step('the status bar tooltip shows the container\'s CPU % and memory (sampled while focused)', async () => {
    await wb.dismissNotifications(page);
    const text = await wb.statusHover(page, /CPU [\d.]+ % · memory [\d.]+ [KMG]i?B/, 20_000);
    wb.log(`tooltip: ${text.replace(/\n/g, ' | ')}`);
  });
  await snap('status-bar-tooltip-resources');

  await step('the status bar click offers the actions of a running container (no Start)', async () => {
    await page.mouse.move(1000, 300);
    await wb.statusItem(page).click();
    const widget = page.locator('.quick-input-widget');
    await widget.locator('.monaco-list-row', { hasText: 'Stop' }).first().waitFor({ state: 'visible', timeout: 5000 });
    const labels = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
    if (!labels.some((l) => l.includes('Open Shell')) || labels.some((l) => /^\s*Start\s*$/.test(l))) throw new Error(`quick pick: ${labels.join(' | ')}`);
    await snap('status-bar-quick-pick');
    await page.keyboard.press('Escape');
  });

  await step('Open Shell: a terminal that reaches the container (a marker file written there)', async () => {
    await wb.contextAction(page, view, name, 'Open Shell');
    await page.locator('.terminal-tabs-entry, .single-terminal-tab, .panel .title', { hasText: `ContainAI: ${name}` }).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    // the ssh session has its pty once the shell is there; typed input waits in the pty anyway
    await wb.until('an ssh pty in the container', () => /\b\d+\b/.test(containerExec(name, 'ls /dev/pts')), 20_000, 100);
    await page.locator('.terminal-wrapper.active .xterm, .terminal .xterm').first().click();
    const marker = `m${Date.now()}`;
    await page.keyboard.type(`echo "$(id -un)@${marker}" > /tmp/e2e-shell-marker`);
    await page.keyboard.press('Enter');
    const got = await wb.until('the marker file in the container', () => {
      try {
        return containerExec(name, 'cat /tmp/e2e-shell-marker') || undefined;
      } catch {
        return undefined;
      }
    }, 15_000, 100);
    if (got !== `agent@${marker}`) throw new Error(`marker: ${got}`);
  });
  await snap('open-shell-terminal');

  await step('Stop with the shell open: the session warning; "Cancel" keeps it running', async () => {
    await wb.inlineAction(view, name, 'Stop');
    await wb.toast(page, /may have active sessions/).waitFor({ state: 'visible', timeout: 20_000 });
    // one progress notification (ours, fed through the token stop passes) and the question
    const toasts = await page.locator('.notifications-toasts .notification-toast:visible').allInnerTexts();
    if (toasts.length !== 2 || toasts.filter((t) => /Stopping/.test(t)).length !== 1) throw new Error(`notifications: ${toasts.join(' | ')}`);
    await snap('session-warning');
    await wb.clickToastButton(page, /may have active sessions/, 'Cancel');
    await wb.waitStatus(page, ['running'], 20_000);
    await wb.until('no progress left', async () => (await wb.toast(page, /ContainAI: Stopping/).count()) === 0, 10_000);
    if (inspect(name).state !== 'running') throw new Error(`docker says ${inspect(name).state}`);
  });
  await snap('session-warning-cancelled-still-running');

  await step('Stop again, "Stop" (anyway): it stops', async () => {
    await wb.inlineAction(view, name, 'Stop');
    await wb.clickToastButton(page, /may have active sessions/, 'Stop');
    await wb.waitStatus(page, ['stopped'], 30_000);
    await wb.until('tree row stopped', async () => /, stopped, Stopped /.test(await wb.rowLabel(view, name)), 10_000);
    if (inspect(name).state !== 'exited') throw new Error(`docker says ${inspect(name).state}`);
  });
  await wb.dismissNotifications(page);
  await snap('stopped-anyway');

  await step('the inline Start action on the stopped row starts it again', async () => {
    await wb.inlineAction(view, name, 'Start');
    await wb.waitStatus(page, ['running'], 60_000);
    if (inspect(name).state !== 'running') throw new Error(`docker says ${inspect(name).state}`);
  });
  await snap('started-inline');

  await step('Copy SSH Command: the clipboard holds a command that logs in', async () => {
    await wb.dismissNotifications(page);
    await wb.contextAction(page, view, name, 'Copy SSH Command');
    await wb.toast(page, /copied/).waitFor({ state: 'visible', timeout: 10_000 });
    const cmd = await page.evaluate(() => (globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }).navigator.clipboard.readText());
    if (!/^ssh .*\b/.test(cmd) || !cmd.endsWith(name)) throw new Error(`clipboard: ${cmd}`);
    const out = cp.execFileSync('bash', ['-c', `${cmd} -- id -un`], { env: { ...process.env, ...e.serverEnv }, encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    if (out !== 'agent') throw new Error(`"${cmd} -- id -un" printed ${out}`);
    wb.log(`clipboard: ${cmd}`);
  });
  await snap('copy-ssh-command');

  const hasAgent = (() => {
    try {
      return containerExec(name, 'command -v claude') !== '';
    } catch {
      return false;
    }
  })();
  if (!hasAgent) wb.log('SKIPPED Open Agent Session: this containai:latest has no claude (built without the agents)');
  else {
    await step('Open Agent Session…: pick the agent, the terminal runs the server\'s session argv (claude runs in the container)', async () => {
      await wb.dismissNotifications(page);
      // the quick pick closes when something takes the focus first (the shared engine's
      // other containers re-render the tree): open it again; a failed pick clicked nothing
      for (let attempt = 1; ; attempt++) {
        await wb.contextAction(page, view, name, 'Open Agent Session…');
        const picked = await wb.pickQuickItem(page, /^claude$/).then(() => true, (err: unknown) => {
          if (attempt === 3) throw err;
          return false;
        });
        if (picked) break;
        await page.keyboard.press('Escape');
      }
      await wb.until('claude running as agent in the container', () => {
        try {
          return containerExec(name, 'pgrep -u agent -f claude') !== '';
        } catch {
          return false;
        }
      }, 30_000, 200);
      await page.locator('.terminal-tabs-entry, .single-terminal-tab, .panel .title', { hasText: `ContainAI: claude in ${name}` }).first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => undefined);
    });
    await snap('agent-session');
    // end it, so that later steps find no session open
    containerExec(name, 'pkill -u agent -f claude || true');
    await wb.until('no agent process left', () => {
      try {
        return containerExec(name, 'pgrep -u agent -f claude || true') === '';
      } catch {
        return false;
      }
    }, 15_000, 200);
  }

  await step('Open in Remote-SSH without the Remote-SSH extension explains how to get it, and its button opens the Extensions view on it', async () => {
    await wb.dismissNotifications(page);
    await wb.contextAction(page, view, name, 'Open in Remote-SSH');
    await wb.toast(page, /needs Microsoft's Remote - SSH extension/).waitFor({ state: 'visible', timeout: 10_000 });
    await snap('remote-ssh-explained');
    await wb.clickToastButton(page, /needs Microsoft's Remote - SSH extension/, 'Install Remote - SSH');
    await wb.until('the Extensions view searching for Remote - SSH', async () => /@id:ms-vscode-remote\.remote-ssh/.test(await wb.textNow(page.locator('.extensions-viewlet .suggest-input-container').first())), 10_000);
  });
  await snap('remote-ssh-extensions-view');
  await wb.openSidebar(page);

  await step('with Remote - SSH installed, Open in Remote-SSH opens the container\'s folder on ssh-remote+<container>', async () => {
    const vsix = packRemoteSshStub(e.scratch, path.join(EXT_ROOT, 'node_modules', '.bin', 'vsce'));
    cp.execFileSync(a.codeServer, ['--extensions-dir', e.extDir, '--user-data-dir', e.userData, '--install-extension', vsix], { env: e.env, stdio: 'ignore' });
    await wb.dismissNotifications(page);
    const opened = page.context().waitForEvent('page', { timeout: 25_000 }).catch(() => undefined);
    // the running window learns about the new extension by itself; until then the command still explains
    await wb.until('the Remote - SSH path taken', async () => {
      await wb.contextAction(page, view, name, 'Open in Remote-SSH');
      const explained = wb.toast(page, /needs Microsoft's Remote - SSH extension/);
      const seen = await explained.waitFor({ state: 'visible', timeout: 1500 }).then(() => true, () => false);
      if (seen) await wb.dismissNotifications(page);
      return !seen;
    }, 20_000, 500);
    const popup = await opened;
    if (!popup) throw new Error('no new window was opened');
    await popup.waitForURL(/folder=/, { timeout: 5000 }).catch(() => undefined);
    const url = decodeURIComponent(popup.url());
    wb.log(`new window: ${url}`);
    await popup.close();
    // code-server's window URL keeps the folder's path, not its remote authority: the folder
    // URI the extension handed to vscode.openFolder is in its log, written just before
    if (!url.includes('folder=/home/agent/workspace')) throw new Error(`opened ${url}`);
    const want = `Open in Remote-SSH: vscode-remote://ssh-remote+${name}/home/agent/workspace`;
    await wb.until('the folder URI in the extension\'s log', () => outputLogs(e.userData).includes(want), 5000, 100);
  });

  await step('Status (inline): the Status view with its fields and a CPU/memory chart that grows', async () => {
    await wb.inlineAction(view, name, 'Status');
    const frame = await wb.webviewFrame(page, 'svg.chart-svg', 20_000);
    const text = await frame.locator('body').innerText();
    if (!text.includes('Data volume') || !text.includes(first.volume)) throw new Error(`status view: ${text.slice(0, 300)}`);
    await wb.until('two CPU samples in the chart', async () => Number((await frame.locator('.cpu svg').getAttribute('data-points').catch(() => '0')) ?? 0) >= 2, 20_000, 200);
  });
  await snap('status-view-chart');
  await wb.runPaletteCommand(page, 'View: Close All Editors');

  await keepUnkeep(c);
  await templateAndIdle(c);
  await faults(c, inspect(name), stale);
}

async function keepUnkeep(c: Ctx): Promise<void> {
  const { page, view, name } = c;
  await c.steps.step('Keep: the row gets its "kept" badge', async () => {
    await wb.contextAction(page, view, name, 'Keep');
    await wb.until('row kept', async () => /· kept$/.test(await wb.rowLabel(view, name)), 10_000);
  });
  await c.snap('kept-badge');
  await c.steps.step('Unkeep: the badge goes', async () => {
    await wb.contextAction(page, view, name, 'Unkeep');
    await wb.until('row not kept', async () => !/kept/.test(await wb.rowLabel(view, name)), 10_000);
  });
  await wb.dismissNotifications(page);
  await c.snap('unkept');
}
