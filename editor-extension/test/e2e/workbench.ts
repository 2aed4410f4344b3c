/**
 * Driving the VS Code workbench (code-server in headless Chromium) for the e2e: the
 * palette, the sidebar tree and its actions, notifications, modal dialogs, hovers, the
 * status bar item, screenshots. Waits poll with a deadline (`until`), never sleep.
 */
import * as path from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';

export const t0 = Date.now();
export function log(msg: string): void {
  console.log(`[e2e +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000, everyMs = 50): Promise<T> {
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

/** The element's text now, '' when it is not there: a bare innerText() would wait the
 * page's whole default timeout (15 s) for an element that may never come. */
export async function textNow(l: Locator): Promise<string> {
  return (await l.count()) > 0 ? l.innerText({ timeout: 1000 }).catch(() => '') : '';
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function statusItem(page: Page): Locator {
  return page.locator('#workbench\\.parts\\.statusbar [aria-label^="ContainAI "]').first();
}

export async function statusState(page: Page): Promise<{ state: string; label: string } | undefined> {
  const el = statusItem(page);
  if ((await el.count()) === 0) return undefined;
  const label = (await el.getAttribute('aria-label')) ?? '';
  const m = /^ContainAI ([a-z-]+):/.exec(label);
  return m ? { state: m[1]!, label } : undefined;
}

export async function waitStatus(page: Page, states: string[], ms = 20_000): Promise<{ state: string; label: string; at: number }> {
  return until(`status bar in ${states.join('|')}`, async () => {
    const s = await statusState(page);
    return s && states.includes(s.state) ? { ...s, at: Date.now() } : undefined;
  }, ms, 25);
}

export async function shot(page: Page, dir: string, name: string): Promise<string> {
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  log(`screenshot ${name}`);
  return file;
}

export async function runPaletteCommand(page: Page, title: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRe(title)}$`) }) }).first();
  for (let attempt = 0; ; attempt++) {
    try {
      // F1 can be swallowed while a previous quick pick is still closing (or a terminal has
      // the focus): wait for it to hide, and start over when the palette does not take it
      await until('quick input hidden', async () => !(await widget.isVisible()), 5000);
      await page.keyboard.press('F1');
      await widget.locator('input').waitFor({ state: 'visible', timeout: 2000 });
      await widget.locator('input').fill(`>${title}`);
      await row.waitFor({ state: 'visible', timeout: 5000 });
      await row.click({ timeout: 3000 });
      return;
    } catch (err) {
      if (attempt === 4) throw err;
      await page.keyboard.press('Escape');
    }
  }
}

/** Picks a row of the open quick pick / quick input by its label. */
export async function pickQuickItem(page: Page, label: string | RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const row = widget.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: label }) }).first();
  await row.waitFor({ state: 'visible', timeout: 5000 });
  await row.click();
}

export async function openSidebar(page: Page): Promise<Locator> {
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

export function treeRow(view: Locator, name: string): Locator {
  return view.locator(`.monaco-list-row[aria-label^="${name},"]`).first();
}

export async function rowLabel(view: Locator, name: string): Promise<string> {
  return (await treeRow(view, name).getAttribute('aria-label').catch(() => null)) ?? '';
}

/** Clicks one of a tree row's inline action buttons. */
export async function inlineAction(view: Locator, name: string, action: string): Promise<void> {
  const row = treeRow(view, name);
  await row.hover();
  await row.locator(`.action-label[aria-label="${action}"]`).click();
}

/** Right-clicks a tree row and picks an item of its context menu. */
export async function contextAction(page: Page, view: Locator, name: string, item: string): Promise<void> {
  await treeRow(view, name).click({ button: 'right' });
  const entry = page.locator('.context-view .monaco-menu .action-item .action-label', { hasText: new RegExp(`^${escapeRe(item)}$`) }).first();
  await entry.waitFor({ state: 'visible', timeout: 5000 });
  // a click that lands while the menu is still settling is dropped: retry until it closes
  await until(`the context menu took "${item}"`, async () => {
    if (await entry.isVisible().catch(() => false)) await entry.click({ timeout: 2000 });
    return !(await entry.isVisible().catch(() => false));
  }, 8000, 300);
}

/** The notification toast whose message matches. */
export function toast(page: Page, text: string | RegExp): Locator {
  return page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
}

export async function clickToastButton(page: Page, text: string | RegExp, button: string): Promise<void> {
  const t = toast(page, text);
  await t.waitFor({ state: 'visible', timeout: 15_000 });
  await t.locator('.monaco-button', { hasText: new RegExp(`^${escapeRe(button)}$`) }).first().click();
}

export function dialog(page: Page): Locator {
  return page.locator('.monaco-dialog-box').first();
}

export async function clickDialogButton(page: Page, button: string): Promise<void> {
  const d = dialog(page);
  await d.waitFor({ state: 'visible', timeout: 10_000 });
  await d.locator('.monaco-button', { hasText: new RegExp(`^${escapeRe(button)}$`) }).first().click();
  await d.waitFor({ state: 'hidden', timeout: 5000 });
}

export async function dismissNotifications(page: Page): Promise<void> {
  // keeps later screenshots readable
  await runPaletteCommand(page, 'Notifications: Clear All Notifications');
  await until('toasts gone', async () => (await page.locator('.notifications-toasts .notification-toast:visible').count()) === 0, 3000).catch(() => undefined);
}

/** The text of the hover shown for the status bar item. */
export async function statusHover(page: Page, match: RegExp, ms = 15_000): Promise<string> {
  return until(`status bar hover matching ${match}`, async () => {
    await page.mouse.move(1000, 300);
    await statusItem(page).hover();
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: /ContainAI/ }).first();
    await hover.waitFor({ state: 'visible', timeout: 2000 });
    const text = await hover.innerText();
    if (!match.test(text)) return undefined;
    await opaque(hover);
    return text;
  }, ms, 200);
}

/** The (nested) frame of a webview whose document matches `selector`. */
export async function webviewFrame(page: Page, selector: string, ms = 15_000): Promise<Frame> {
  return until(`a webview with ${selector}`, async () => {
    for (const f of page.frames()) {
      if ((await f.locator(selector).count().catch(() => 0)) > 0) return f;
    }
    return undefined;
  }, ms, 100);
}

/** Waits until an element has faded in (the workbench animates hovers and toasts), so a screenshot shows it. */
export async function opaque(el: Locator): Promise<void> {
  await until('fully drawn', async () => {
    const o = await el.evaluate((node) => {
      type El = { parentElement: El | null };
      const g = globalThis as unknown as { getComputedStyle(x: El): { opacity: string } };
      let e: El | null = node as unknown as El;
      let op = 1;
      while (e) {
        op *= Number(g.getComputedStyle(e).opacity || '1');
        e = e.parentElement;
      }
      return op;
    });
    return o > 0.98;
  }, 1500, 25).catch(() => undefined);
}
