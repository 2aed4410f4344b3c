/**
 * The protocol client (src/rpc.ts + src/protocol.ts) against the real Python server over
 * stdio and the real Docker engine, and the store fed by what the server sends.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as cp from 'node:child_process';
import * as path from 'node:path';
import { makeGitWorkspace, makeScratch, removeContainersOf, ServerProcess, TEST_IMAGE, type Scratch } from '../support/realServer';
import { ContainerStore } from '../../src/model/store';
import { statusBarView, treeMessage } from '../../src/model/statusView';
import { REQUEST_FAILED, INVALID_PARAMS, type RunResult } from '../../src/protocol';

function rpcError(err: unknown): { code: number; message: string; data?: { reason?: string } } {
  return err as never;
}

describe('protocol client against the real server', { timeout: 120_000 }, () => {
  let scratch: Scratch;
  let ws: string;
  let server: ServerProcess;
  let created: RunResult | undefined;

  before(async () => {
    scratch = makeScratch();
    // short, unique repo name: the container is {repo}-{branch}
    ws = makeGitWorkspace(scratch.root, `ext${path.basename(scratch.root).slice(-6).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`);
    server = new ServerProcess(scratch.env, ws);
  });

  after(async () => {
    await server?.shutdown();
    removeContainersOf(ws);
    scratch?.cleanup();
  });

  it('negotiates the protocol version in initialize', async () => {
    const result = await server.initialize(ws);
    const caps = result.capabilities.experimental?.containai;
    assert.ok(caps, 'capabilities.experimental.containai is present');
    assert.equal(caps.protocolVersion, '1.0');
    assert.equal(typeof caps.serverVersion, 'string');
    assert.ok(Array.isArray(caps.features));
  });

  it('reports the engine as healthy after initialized', async () => {
    const status = await server.waitFor('engineStatus', () => server.engine.at(-1));
    assert.equal(status.health, 'ok', status.message);
    assert.equal(typeof status.context, 'string');
  });

  it('lists with a revision; the workspace has no container yet', async () => {
    const list = await server.api.list();
    assert.equal(typeof list.revision, 'number');
    assert.ok(Array.isArray(list.containers));
    assert.equal(list.containers.filter((c) => c.workspace === ws).length, 0);
    const store = new ContainerStore(ws);
    store.setServerState('running');
    store.applyList(list);
    store.applyEngineStatus(server.engine.at(-1)!);
    assert.equal(statusBarView(store, Date.now()).state, 'absent');
  });

  it('plans with dryRun without creating anything', async () => {
    const plan = await server.api.run({ workspace: ws, dryRun: true });
    assert.equal(plan.action, 'create');
    assert.equal(plan.dryRun, true);
    assert.equal(plan.workspace, ws);
    assert.ok(plan.containerName.startsWith(path.basename(ws)), plan.containerName);
    const list = await server.api.list();
    assert.equal(list.containers.filter((c) => c.workspace === ws).length, 0);
  });

  it('runs the workspace container with progress and a containerChanged snapshot', async () => {
    const store = new ContainerStore(ws);
    store.setServerState('running');
    store.applyList(await server.api.list());
    const before = server.changes.length;
    const token = 'tok-run-1';
    created = await server.api.run({ workspace: ws, workDoneToken: token });
    assert.equal(created.action, 'create');
    assert.equal(created.state, 'running');
    assert.equal(created.image, TEST_IMAGE);
    assert.equal(created.container?.status, 'running');
    assert.equal(created.container?.workspace, ws);
    const mine = server.progress.filter((p) => p.token === token);
    assert.ok(mine.some((p) => p.value.kind === 'begin'), `a begin for our token: ${JSON.stringify(server.progress)}`);
    await server.waitFor('the end of progress', () => server.progress.some((p) => p.token === token && p.value.kind === 'end'));
    const change = await server.waitFor('containerChanged running', () =>
      server.changes.slice(before).find((c) => c.container.name === created!.containerName && c.container.status === 'running'),
    );
    assert.ok(['created', 'started', 'updated'].includes(change.kind), change.kind);
    for (const c of server.changes.slice(before)) store.applyChange(c);
    assert.equal(store.current()?.name, created.containerName);
    assert.equal(statusBarView(store, Date.now()).text, `$(vm-running) ${created.containerName}`);
  });

  it('status of the running container', async () => {
    const st = await server.api.status({ workspace: ws });
    assert.equal(st.name, created!.containerName);
    assert.equal(st.status, 'running');
    assert.equal(st.workspace, ws);
    assert.equal(typeof st.createdAt, 'string');
  });

  it('a second run attaches', async () => {
    const again = await server.api.run({ workspace: ws });
    assert.equal(again.action, 'attach');
    assert.equal(again.containerName, created!.containerName);
  });

  it('stops it, and says so in a notification', async () => {
    const before = server.changes.length;
    const res = await server.api.stop({ workspace: ws });
    assert.deepEqual(res.results.map((r) => [r.containerName, r.action]), [[created!.containerName, 'stopped']]);
    const change = await server.waitFor('containerChanged stopped', () => server.changes.slice(before).find((c) => c.container.name === created!.containerName && c.container.status === 'stopped'));
    assert.equal(change.kind, 'stopped');
  });

  it('follows a `docker stop` from outside within a second or two', async () => {
    const started = await server.api.run({ workspace: ws });
    assert.equal(started.action, 'start');
    await server.waitFor('running again', () => server.changes.at(-1)?.container.status === 'running');
    const before = server.changes.length;
    const t0 = Date.now();
    cp.execFileSync('docker', ['stop', '-t', '1', created!.containerName], { stdio: 'ignore' });
    const change = await server.waitFor('containerChanged after docker stop', () => server.changes.slice(before).find((c) => c.container.status === 'stopped'), 5000);
    assert.equal(change.container.name, created!.containerName);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  });

  it('notifications carry increasing revisions', () => {
    const revs = server.changes.map((c) => c.revision);
    for (let i = 1; i < revs.length; i++) assert.ok(revs[i]! > revs[i - 1]!, `revisions ${revs.join(',')}`);
  });

  it('maps domain errors to -32803 with data.reason, bad params to -32602', async () => {
    await assert.rejects(server.api.status({ container: 'containai-no-such-container-x' }), (err: unknown) => {
      const e = rpcError(err);
      assert.equal(e.code, REQUEST_FAILED);
      assert.equal(e.data?.reason, 'containerNotFound');
      assert.ok(e.message.length > 0);
      return true;
    });
    await assert.rejects(server.api.run({ workspace: ws, dryRun: 'yes' as unknown as boolean }), (err: unknown) => {
      assert.equal(rpcError(err).code, INVALID_PARAMS);
      return true;
    });
  });

  it('keep marks the container, gc dry run never lists a kept or running one', async () => {
    const kept = await server.api.keep({ workspace: ws, keep: true });
    assert.equal(kept.containerName, created!.containerName);
    assert.equal(kept.keep, true);
    const plan = await server.api.gc({ dryRun: true, age: '0d' });
    assert.equal(plan.dryRun, true);
    assert.ok(!plan.candidates.some((c) => c.name === created!.containerName), 'a kept container is never a gc candidate');
    const unkept = await server.api.keep({ workspace: ws, keep: false });
    assert.equal(unkept.keep, false);
  });

  it('doctor answers with checks and a recommended action', async () => {
    const res = await server.api.doctor({});
    assert.equal(typeof res.ok, 'boolean');
    assert.ok(res.checks.length > 0);
    for (const c of res.checks) assert.ok(['ok', 'warn', 'error', 'skip'].includes(c.status), c.status);
    assert.equal(typeof res.recommendedAction, 'string');
  });

  it('stop and remove keeps the volume and notifies "removed"', async () => {
    const before = server.changes.length;
    const res = await server.api.stop({ workspace: ws, remove: true, force: true });
    assert.equal(res.results[0]?.action, 'removed');
    await server.waitFor('containerChanged removed', () => server.changes.slice(before).find((c) => c.kind === 'removed'));
    const list = await server.api.list();
    assert.equal(list.containers.filter((c) => c.workspace === ws).length, 0);
    if (created?.dataVolume) {
      const vols = cp.execFileSync('docker', ['volume', 'ls', '-q'], { encoding: 'utf8' });
      assert.ok(vols.split('\n').includes(created.dataVolume), `volume ${created.dataVolume} is kept`);
    }
  });
});

describe('engine unreachable', { timeout: 60_000 }, () => {
  let scratch: Scratch;
  let server: ServerProcess;

  before(() => {
    scratch = makeScratch('cai-ext-dead-');
    const env = { ...scratch.env, DOCKER_HOST: `unix://${scratch.root}/no-engine.sock` };
    delete (env as Record<string, string | undefined>).DOCKER_CONTEXT;
    server = new ServerProcess(env, scratch.root);
  });
  after(async () => {
    await server?.shutdown();
    scratch?.cleanup();
  });

  it('reports health error, and the store shows the error state, not an empty list', async () => {
    await server.initialize(scratch.root);
    const status = await server.waitFor('engineStatus error', () => server.engine.find((e) => e.health === 'error'));
    assert.ok(status.message.length > 0);
    const store = new ContainerStore(scratch.root);
    store.setServerState('running');
    try {
      const list = await server.api.list();
      store.applyList(list);
    } catch (err) {
      assert.equal(rpcError(err).data?.reason, 'engineUnavailable');
      store.setListError(rpcError(err).message);
    }
    store.applyEngineStatus(status);
    const v = statusBarView(store, Date.now());
    assert.equal(v.state, 'engine-error');
    assert.equal(v.severity, 'error');
    assert.match(treeMessage(store)?.text ?? '', /Docker engine unreachable/);
  });

  it('run fails with engineUnavailable and a human message', async () => {
    await assert.rejects(server.api.run({ workspace: scratch.root }), (err: unknown) => {
      const e = rpcError(err);
      assert.equal(e.code, REQUEST_FAILED);
      assert.equal(e.data?.reason, 'engineUnavailable');
      assert.ok(!/Traceback/.test(e.message));
      return true;
    });
  });
});
