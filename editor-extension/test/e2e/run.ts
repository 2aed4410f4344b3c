/**
 * End-to-end: the packaged .vsix in a real VS Code (code-server) in headless Chromium,
 * against the real containai-rpc server and the real Docker engine (reached through a
 * relay, `EngineProxy`, so the engine can go away and come back), with the systemd image
 * so the SSH actions really connect. Every action is clicked and its effect asserted on the
 * engine (docker inspect) or the container; one screenshot per step in test-results/.
 *
 * Env (scripts/e2e.sh sets them): CODE_SERVER, NODE24 (node for code-server), VSIX,
 * CONTAINAI_RPC_SERVER (default <repo>/.venv/bin/containai-rpc), CONTAINAI_E2E_IMAGE
 * (default containai:latest), CHROMIUM (default /usr/bin/chromium), E2E_RESULTS.
 *
 * Prints one line per step and a closing "N passed, N failed" line; exit code 1 on failure.
 */
import * as cp from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { EngineProxy } from './engineProxy';
import { PrivateEngine } from './privateEngine';
import { freePort, makeEnvironment, type E2eEnv } from './setup';
import { log, until } from './workbench';
import { scenario } from './scenario';

const EXT_ROOT = path.resolve(__dirname, '..', '..', '..');
const RESULTS = process.env.E2E_RESULTS ?? path.join(EXT_ROOT, 'test-results');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function need(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run scripts/e2e.sh)`);
  return v;
}

export interface Steps {
  passed: number;
  failed: number;
  step<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

function steps(): Steps {
  const s: Steps = {
    passed: 0,
    failed: 0,
    async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
      const start = Date.now();
      try {
        const v = await fn();
        s.passed++;
        log(`ok   ${name} (${Date.now() - start} ms)`);
        return v;
      } catch (err) {
        s.failed++;
        log(`FAIL ${name}: ${(err as Error)?.stack ?? String(err)}`);
        throw err;
      }
    },
  };
  return s;
}

async function main(): Promise<void> {
  const codeServer = need('CODE_SERVER');
  const vsix = path.resolve(need('VSIX'));
  fs.mkdirSync(RESULTS, { recursive: true });
  for (const f of fs.readdirSync(RESULTS)) if (f.endsWith('.png')) fs.rmSync(path.join(RESULTS, f));
  const scratch = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'cai-e2e-')));
  const proxy = new EngineProxy(path.join(scratch, 'engine.sock'));
  await proxy.up();
  const e: E2eEnv = makeEnvironment(scratch, need('NODE24'), proxy.endpoint);
  const near = new PrivateEngine(path.join(scratch, 'near'), `cai-e2e-${path.basename(scratch).slice(-6)}`);
  log(`scratch ${scratch}; workspace ${e.ws}`);
  const st = steps();
  let server: cp.ChildProcess | undefined;
  let context: BrowserContext | undefined;
  let ok = false;
  try {
    await st.step('install the .vsix into code-server', async () => {
      const out = cp.execFileSync(codeServer, ['--extensions-dir', e.extDir, '--user-data-dir', e.userData, '--install-extension', vsix], { env: e.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (!/successfully installed/i.test(out)) throw new Error(`unexpected install output: ${out}`);
    });
    const port = await freePort();
    const serverLog = fs.openSync(path.join(scratch, 'code-server.log'), 'w');
    server = cp.spawn(
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', '--extensions-dir', e.extDir, '--user-data-dir', e.userData, e.ws],
      { env: e.env, stdio: ['ignore', serverLog, serverLog], detached: true },
    );
    const origin = `http://127.0.0.1:${port}`;
    await st.step('code-server answers', () => until('code-server HTTP', async () => (await fetch(`${origin}/healthz`).catch(() => undefined))?.ok, 30_000, 100));
    context = await chromium.launchPersistentContext(path.join(scratch, 'chromium'), { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 }, headless: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
    await page.goto(`${origin}/?folder=${encodeURIComponent(e.ws)}`);
    await scenario({ page, codeServer, steps: st, env: e, proxy, near, results: RESULTS, codeServerPid: server.pid! });
    ok = st.failed === 0;
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
    await proxy.down();
    await near.destroy();
    const removed = e.cleanup();
    log(`removed ${removed}`);
    if (ok && !process.env.E2E_KEEP_SCRATCH) fs.rmSync(scratch, { recursive: true, force: true });
    else log(`scratch kept for inspection: ${scratch} (code-server.log, user-data/logs)`);
  }
  console.log(`e2e: ${st.passed} passed, ${st.failed} failed in ${((Date.now() - t0()) / 1000).toFixed(1)} s`);
  process.exitCode = st.failed === 0 && ok ? 0 : 1;
}

const started = Date.now();
const t0 = (): number => started;

main().catch((err) => {
  console.error(err);
  console.log('e2e: failed before the first step');
  process.exitCode = 1;
});
