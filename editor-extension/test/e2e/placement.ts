/**
 * The Run picker: with a second context that answers ("near", a private engine) next to the
 * default one and the dead "far", Run on a workspace without a container asks where, and the
 * container is then on the engine picked (asked of both engines). "Run on Context…" always
 * asks; picking another context than the container's says so and creates nothing.
 */
import * as fs from 'node:fs';
import type { Ctx } from './scenario';
import { containersOf, DEAD_CONTEXT, docker } from './setup';
import { useTemplate } from './templateIdle';
import * as wb from './workbench';

const NEAR_CONTEXT = 'near';
/** The only image the private engine gets (the workspace's template is built from it there). */
const TINY = 'containai-test-tiny:latest';

async function offered(c: Ctx): Promise<{ title: string; labels: string[]; text: string }> {
  const widget = c.page.locator('.quick-input-widget');
  await widget.locator('.monaco-list-row .label-name', { hasText: new RegExp(`^${NEAR_CONTEXT}$`) }).first().waitFor({ state: 'visible', timeout: 15_000 });
  // a row's first label is the item's label (its detail line has one too)
  const rows = widget.locator('.monaco-list-row');
  const labels: string[] = [];
  for (let i = 0; i < (await rows.count()); i++) labels.push(await rows.nth(i).locator('.label-name').first().innerText());
  return { title: await widget.locator('.quick-input-title').innerText(), labels, text: await widget.innerText() };
}

export async function runPicker(c: Ctx): Promise<void> {
  const { page, view, env: e, near } = c;
  const step = c.steps.step.bind(c.steps);
  const ws = `label=containai.workspace=${e.ws}`;

  await step('a second context that answers ("near", a private engine): Restart Server, the tree shows it next to the dead "far"', async () => {
    await near.start(TINY);
    docker('--config', e.serverEnv.DOCKER_CONFIG!, 'context', 'create', NEAR_CONTEXT, '--docker', `host=${near.endpoint}`);
    useTemplate(e, TINY);
    fs.appendFileSync(e.containaiConfig, `\n[engine]\ncontexts = ["${DEAD_CONTEXT}", "${NEAR_CONTEXT}"]\n`);
    await wb.runPaletteCommand(page, 'ContainAI: Restart Server');
    await view.locator(`.monaco-list-row[aria-label^="context ${NEAR_CONTEXT}, 0 containers"]`).first().waitFor({ state: 'visible', timeout: 30_000 });
    await view.locator(`.monaco-list-row[aria-label^="context ${DEAD_CONTEXT}, unreachable"]`).first().waitFor({ state: 'visible', timeout: 10_000 });
  });

  const name = await step('"ContainAI: Run", no container yet, two contexts answer: the picker offers default, then near (not the dead far); picking near creates the container on that engine', async () => {
    await wb.runPaletteCommand(page, 'ContainAI: Run');
    const got = await offered(c);
    if (!/Run on which Docker context/.test(got.title) || got.labels.join() !== `default,${NEAR_CONTEXT}` || !/selected/.test(got.text)) throw new Error(`picker: ${got.title}: ${got.labels.join(' | ')}`);
    await c.snap('run-picker-contexts');
    await wb.pickQuickItem(page, new RegExp(`^${NEAR_CONTEXT}$`));
    const s = await wb.waitStatus(page, ['running'], 60_000);
    const ids = near.docker('ps', '-q', '--filter', 'label=containai.managed=true', '--filter', ws).split('\n').filter(Boolean);
    if (ids.length !== 1) throw new Error(`the private engine holds ${ids.length} containers of the workspace`);
    if (containersOf(e.ws).length !== 0) throw new Error('the default engine holds a container of the workspace');
    const nm = near.docker('inspect', '-f', '{{.Name}}', ids[0]!).replace(/^\//, '');
    if (!s.label.includes(nm)) throw new Error(`status bar: ${s.label}`);
    await view.locator(`.monaco-list-row[aria-label^="context ${NEAR_CONTEXT}, 1 container, this workspace"]`).first().waitFor({ state: 'visible', timeout: 10_000 });
    return nm;
  });
  await c.snap('run-on-near');
  await wb.dismissNotifications(page);

  await step('"ContainAI: Run on Context…" always asks; picking default says the container is on near, and creates nothing', async () => {
    await wb.runPaletteCommand(page, 'ContainAI: Run on Context…');
    const got = await offered(c);
    if (got.labels.join() !== `${NEAR_CONTEXT},default` || !got.text.includes(`holds ${name}`)) throw new Error(`picker: ${got.labels.join(' | ')}: ${got.text}`);
    await wb.pickQuickItem(page, /^default$/);
    await wb.toast(page, new RegExp(`already has a container, ${name}, on context '${NEAR_CONTEXT}'`)).waitFor({ state: 'visible', timeout: 10_000 });
    if (containersOf(e.ws).length !== 0) throw new Error('a container was created on the default engine');
  });
  await c.snap('run-on-context-container-elsewhere');
  await wb.dismissNotifications(page);
}
