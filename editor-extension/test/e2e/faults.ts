/**
 * The second half: recreating (Fresh, Reset), a cancelled slow operation, garbage
 * collection, outside changes and outages (docker stop, kill -9 of the server, the engine
 * gone and back), two contexts with one dead, Stop and Remove, then the Run picker.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from './scenario';
import { containersOf, DEAD_CONTEXT, docker, inspect, SERVER, volumeExists } from './setup';
import { runPicker } from './placement';
import { cmdline, descendants } from './procs';
import * as wb from './workbench';

const SERVER_CMDLINE = new RegExp(`(^|\\s)${SERVER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`);

export async function faults(c: Ctx, first: { id: string; volume: string }, stale: Promise<number>): Promise<void> {
  const { page, view, name, env: e, proxy } = c;
  const step = c.steps.step.bind(c.steps);

  const second = await step('Fresh (inline, confirmed): a new container id on the same volume', async () => {
    await wb.inlineAction(view, name, 'Fresh');
    await wb.dialog(page).waitFor({ state: 'visible', timeout: 10_000 });
    await c.snap('fresh-confirm');
    await wb.clickDialogButton(page, 'Fresh');
    const now = await wb.until('a new container', () => {
      const i = inspect(name);
      return i.id !== first.id && i.state === 'running' ? i : undefined;
    }, 60_000, 100);
    if (now.volume !== first.volume) throw new Error(`volume ${now.volume}, was ${first.volume}`);
    await wb.waitStatus(page, ['running'], 30_000);
    return now;
  });
  await wb.dismissNotifications(page);
  await c.snap('fresh-done');

  await step('progress is cancellable: Fresh on a slow engine, Cancel on its notification, nothing replaced', async () => {
    proxy.delayMs = 300;
    try {
      await wb.inlineAction(view, name, 'Fresh');
      await wb.clickDialogButton(page, 'Fresh');
      const progress = wb.toast(page, /ContainAI: Recreating/);
      await progress.waitFor({ state: 'visible', timeout: 10_000 });
      await c.snap('progress-cancellable');
      await progress.locator('.monaco-button', { hasText: /^Cancel$/ }).first().click();
      await progress.waitFor({ state: 'hidden', timeout: 30_000 });
    } finally {
      proxy.delayMs = 0;
    }
    await wb.waitStatus(page, ['running'], 30_000);
    if ((await wb.toast(page, /recreated|failed/).count()) > 0) throw new Error('the cancelled Fresh reported success or a failure');
    const now = inspect(name);
    if (now.id !== second.id || now.state !== 'running') throw new Error(`the container changed: ${now.id.slice(0, 12)} ${now.state}`);
  });
  await c.snap('progress-cancelled');

  await step('Reset (confirmed): a new volume, the old one still there', async () => {
    await wb.contextAction(page, view, name, 'Reset');
    await wb.clickDialogButton(page, 'Reset');
    const now = await wb.until('a container on a new volume', () => {
      const i = inspect(name);
      return i.volume !== first.volume && i.state === 'running' ? i : undefined;
    }, 60_000, 100);
    e.trackVolume(now.volume);
    if (!volumeExists(first.volume)) throw new Error(`the old volume ${first.volume} is gone`);
    await wb.waitStatus(page, ['running'], 30_000);
    wb.log(`reset: volume ${first.volume} → ${now.volume}`);
  });
  await wb.dismissNotifications(page);
  await c.snap('reset-new-volume');

  await step('Garbage Collect…: age, scope (images offered), the dry run lists the stale container, the real run removes it', async () => {
    const staleAt = await stale;
    const other = containersOf(e.otherWs);
    // the shared engine may hold other stopped containers: ask for an age only ours has
    await wb.until('the stale container is over a minute old', () => Date.now() - staleAt > 61_000, 90_000, 500);
    await wb.runPaletteCommand(page, 'ContainAI: Garbage Collect…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('1m');
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'unused images' }).first().waitFor({ state: 'visible' });
    await c.snap('gc-scope-images-offered');
    await wb.pickQuickItem(page, /^Stale containers$/);
    const d = wb.dialog(page);
    await d.waitFor({ state: 'visible', timeout: 30_000 });
    const detail = await d.innerText();
    await c.snap('gc-dry-run');
    const listed = detail.split('\n').filter((l) => l.startsWith('container '));
    const mine = path.basename(e.otherWs);
    if (listed.length !== 1 || !listed[0]!.includes(mine)) {
      await wb.clickDialogButton(page, 'Cancel');
      throw new Error(`the dry run lists other containers too; not removing them: ${listed.join('; ')}`);
    }
    await wb.clickDialogButton(page, 'Remove');
    await wb.toast(page, /removed 1 container/).waitFor({ state: 'visible', timeout: 30_000 });
    if (containersOf(e.otherWs).length !== 0) throw new Error(`still there: ${other.join(', ')}`);
    if (inspect(name).state !== 'running') throw new Error('gc touched the running container');
  });
  await c.snap('gc-removed');
  await wb.dismissNotifications(page);

  const lagMs = await step('after `docker stop` from outside, the UI follows within a second', async () => {
    docker('stop', '-t', '1', name);
    const stoppedAt = Date.now();
    const seen = await wb.waitStatus(page, ['stopped'], 10_000);
    await wb.until('tree row stopped', async () => /, stopped, /.test(await wb.rowLabel(view, name)), 10_000, 10);
    const lag = Math.max(seen.at, Date.now()) - stoppedAt;
    if (lag > 1000) throw new Error(`the UI followed after ${lag} ms`);
    return lag;
  });
  wb.log(`UI followed docker stop after ${lagMs} ms`);
  await c.snap('followed-external-docker-stop');

  await step('the server is restarted when it dies (kill -9), and the UI comes back', async () => {
    const pids = descendants(c.codeServerPid, SERVER_CMDLINE);
    if (pids.length === 0) throw new Error('no containai-rpc process under code-server');
    for (const pid of pids) wb.log(`killing ${pid}: ${cmdline(pid)}`);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await wb.until('a new server process', () => {
      const now = descendants(c.codeServerPid, SERVER_CMDLINE);
      return now.length > 0 && now.every((p) => !pids.includes(p));
    }, 20_000, 100);
    await wb.waitStatus(page, ['stopped'], 20_000);
    await wb.until('tree row back', async () => /, stopped, /.test(await wb.rowLabel(view, name)), 10_000);
  });

  await step('the engine goes away: the status bar turns to an error, the tree says so', async () => {
    await proxy.down();
    await wb.waitStatus(page, ['engine-error'], 30_000);
    await view.getByText(/Docker engine unreachable/).first().waitFor({ state: 'visible', timeout: 15_000 });
  });
  await page.mouse.click(1000, 600);
  await wb.statusHover(page, /unreachable/, 5000).catch(() => undefined);
  await c.snap('engine-unreachable');

  await step('the tree\'s error row runs Doctor, whose report lands in the output', async () => {
    await page.keyboard.press('Escape');
    await view.locator('.monaco-list-row', { hasText: 'Docker engine unreachable' }).first().click();
    const panel = page.locator('.part.panel');
    await panel.waitFor({ state: 'visible', timeout: 10_000 });
    await wb.until('doctor report in the output', async () => /[✓✗]/.test(await wb.textNow(panel.locator('.view-lines').first())), 20_000, 100);
  });
  await page.mouse.click(1000, 300);
  await c.snap('doctor-with-engine-down');

  const recovery = await step('the engine comes back: the status bar recovers by itself', async () => {
    const at = Date.now();
    await proxy.up();
    await wb.waitStatus(page, ['stopped'], 30_000);
    await wb.until('tree row back', async () => /, stopped, /.test(await wb.rowLabel(view, name)), 10_000);
    return Date.now() - at;
  });
  wb.log(`recovered ${recovery} ms after the engine came back`);
  await c.snap('engine-recovered');

  await step('two contexts, one dead: Restart Server, the tree shows the dead one as an error group, the status bar the workspace\'s own', async () => {
    fs.mkdirSync(path.dirname(e.containaiConfig), { recursive: true });
    fs.appendFileSync(e.containaiConfig, `\n[engine]\ncontexts = ["${DEAD_CONTEXT}"]\n`);
    await wb.runPaletteCommand(page, 'ContainAI: Restart Server');
    await view.locator(`.monaco-list-row[aria-label^="context ${DEAD_CONTEXT}, unreachable"]`).first().waitFor({ state: 'visible', timeout: 30_000 });
    await view.locator('.monaco-list-row[aria-label^="context default,"]').first().waitFor({ state: 'visible', timeout: 10_000 });
    await wb.treeRow(view, name).waitFor({ state: 'visible', timeout: 10_000 });
    const s = await wb.waitStatus(page, ['stopped'], 10_000);
    if (!s.label.includes(name)) throw new Error(`status bar: ${s.label}`);
  });
  await c.snap('two-contexts-dead-group');

  await step('Stop and Remove (confirmed): the container is gone, its volume kept, the status bar says "no container"', async () => {
    const vol = inspect(name).volume;
    await wb.contextAction(page, view, name, 'Stop and Remove');
    await wb.clickDialogButton(page, 'Stop and Remove');
    await wb.waitStatus(page, ['absent'], 30_000);
    if (containersOf(e.ws).length !== 0) throw new Error('the container is still there');
    if (!volumeExists(vol)) throw new Error(`volume ${vol} was removed`);
  });
  await wb.dismissNotifications(page);
  await c.snap('stopped-and-removed');

  await runPicker(c);

  await step('Show Server Log (palette) opens the "ContainAI Server" output', async () => {
    const panel = page.locator('.part.panel');
    // the editor renders spaces as no-break spaces
    const logText = async (): Promise<string> => (await wb.textNow(panel.locator('.view-lines').first())).replace(/\u00a0/g, ' ');
    // another panel view first (Problems has no editor lines), so the command has to switch
    await page.mouse.click(1000, 300);
    await page.keyboard.press('Control+Shift+M');
    await wb.until('the Problems view', async () => !/\[containai\]/.test(await logText()), 5000, 100);
    await wb.runPaletteCommand(page, 'ContainAI: Show Server Log');
    await wb.until('the server log', async () => /\[containai\] (server|doctor|Removing)/.test(await logText()), 10_000, 100);
  });
  await c.snap('server-log');

  await step('the extension host log has no activation errors', async () => {
    const logs: string[] = [];
    const walk = (d: string): void => {
      for (const x of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, x.name);
        if (x.isDirectory()) walk(p);
        else if (/exthost.*\.log$|remoteexthost\.log$/.test(x.name)) logs.push(p);
      }
    };
    if (fs.existsSync(path.join(e.userData, 'logs'))) walk(path.join(e.userData, 'logs'));
    if (logs.length === 0) throw new Error('no extension host log found');
    const text = logs.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    if (!/containai\.containai/.test(text)) throw new Error(`the extension host log does not mention containai.containai (${logs.join(', ')})`);
    const bad = text.split('\n').filter((l) => /containai/i.test(l) && /\[error\]|Activating extension .* failed|activation failed/i.test(l));
    if (bad.length) throw new Error(`errors in the extension host log:\n${bad.join('\n')}`);
  });
}
