/** Engine health per context, resources at a glance, and the sampler that feeds them. */
import '../support/register-vscode';
import { beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as stub from '../support/vscode-stub';
import { ContainerTreeProvider } from '../../src/tree';
import { ContainerStore } from '../../src/model/store';
import { statusBarView } from '../../src/model/statusView';
import { historyChartSvg, HISTORY_MS } from '../../src/model/resources';
import { ResourceSampler } from '../../src/resourceSampler';
import type { Deps } from '../../src/commands/deps';
import type { ContainaiApi } from '../../src/rpc';
import type { ContainerSummary } from '../../src/protocol';

const WS = '/home/me/src/myapp';
const NOW = Date.parse('2026-11-27T12:00:00Z');

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id: 'abc', name: 'myapp-main', context: 'default', status: 'running', dockerState: 'running', image: 'containai:latest', workspace: WS, sshPort: 2301, keep: false, startedAt: '2026-11-27T11:00:00Z', ...over };
}

function twoContexts(): ContainerStore {
  const store = new ContainerStore(WS);
  store.setServerState('running');
  store.applyList({ revision: 1, containers: [summary()], errors: [{ context: 'far', message: 'Cannot connect to unix:///nowhere.sock' }] });
  store.applyEngineStatus({ health: 'ok', message: 'ok', context: 'default' });
  store.applyEngineStatus({ health: 'error', message: 'Cannot connect to unix:///nowhere.sock', context: 'far' });
  return store;
}

beforeEach(() => stub.resetStub());

describe('engine health per context', () => {
  it('the status bar follows the workspace context: a dead other context does not turn it red', () => {
    const store = twoContexts();
    assert.equal(statusBarView(store, NOW).state, 'running');
    // the order of reports does not matter: the healthy one arriving last hides nothing either
    store.applyEngineStatus({ health: 'error', message: 'down', context: 'default' });
    store.applyEngineStatus({ health: 'ok', message: 'ok', context: 'far' });
    assert.equal(statusBarView(store, NOW).state, 'engine-error');
  });

  it('before the workspace context is known, any dead context shows', () => {
    const store = new ContainerStore(WS);
    store.setServerState('running');
    store.applyEngineStatus({ health: 'ok', message: 'ok', context: 'a' });
    store.applyEngineStatus({ health: 'error', message: 'down', context: 'b' });
    assert.equal(statusBarView(store, NOW).state, 'engine-error');
    store.setWorkspaceContext('a');
    assert.notEqual(statusBarView(store, NOW).state, 'engine-error');
  });

  it('the tree groups by context, the dead one as an error group with the reason', () => {
    const tree = new ContainerTreeProvider(twoContexts(), () => NOW, '/home/me');
    const groups = tree.getChildren();
    assert.deepEqual(groups.map((g) => (g.kind === 'group' ? `${g.context}:${g.error ? 'error' : 'ok'}` : g.kind)), ['default:ok', 'far:error']);
    const far = tree.getTreeItem(groups[1]!) as unknown as stub.TreeItem;
    assert.equal(far.iconPath?.id, 'error');
    assert.equal(far.description, 'unreachable');
    const farRows = tree.getChildren(groups[1]);
    assert.equal(farRows[0]?.kind, 'message');
    assert.match((tree.getTreeItem(farRows[0]!) as unknown as stub.TreeItem).tooltip as string, /far: Cannot connect/);
    const mine = tree.getChildren(groups[0]);
    assert.deepEqual(mine.map((n) => (n.kind === 'container' ? n.container.name : n.kind)), ['myapp-main']);
    assert.equal(tree.viewMessage(), undefined);
  });
});

describe('resources at a glance', () => {
  it('the tooltip shows CPU and memory of a running container; the text only with the setting', () => {
    const store = twoContexts();
    store.recordResources(summary(), { cpuPercent: 3.25, memoryBytes: 180 * 1024 * 1024, memoryLimitBytes: 2 * 1024 ** 3 }, NOW - 1000);
    const v = statusBarView(store, NOW);
    assert.match(v.tooltip, /CPU 3\.3 % · memory 180 MiB \/ 2\.0 GiB/);
    assert.equal(v.text, '$(vm-running) myapp-main');
    assert.equal(statusBarView(store, NOW, { resourcesInText: true }).text, '$(vm-running) myapp-main  3.3 % · 180 MiB');
    // an old sample (sampling paused) is not shown as current
    assert.doesNotMatch(statusBarView(store, NOW + 10 * 60_000, { resourcesMaxAgeMs: 30_000 }).tooltip, /CPU/);
  });

  it('a recreated container (new id) starts a new history', () => {
    const store = twoContexts();
    store.recordResources(summary(), { cpuPercent: 1 }, NOW);
    store.recordResources(summary({ id: 'new' }), { cpuPercent: 2 }, NOW + 1);
    assert.equal(store.history(summary({ id: 'new' }))?.samples.length, 1);
    assert.equal(store.history(summary()), undefined);
  });

  it('the chart plots the last minutes only', () => {
    const samples = [
      { at: NOW - HISTORY_MS - 1000, cpuPercent: 50, memoryBytes: 1 },
      { at: NOW - 60_000, cpuPercent: 10, memoryBytes: 100, memoryLimitBytes: 1000 },
      { at: NOW, cpuPercent: 20, memoryBytes: 200, memoryLimitBytes: 1000 },
    ];
    const svg = historyChartSvg(samples, NOW, 100, 50);
    assert.deepEqual([...svg.matchAll(/data-points="(\d+)"/g)].map((m) => m[1]), ['2', '2']);
    // the axis starts at the oldest sample kept (at least a minute back): it spans the width
    assert.match(svg, /points="0\.0,45\.0 100\.0,40\.0"/);
    const young = historyChartSvg([{ at: NOW - 30_000, cpuPercent: 0 }, { at: NOW, cpuPercent: 100 }], NOW, 100, 50);
    assert.match(young, /points="50\.0,50\.0 100\.0,0\.0"/);
  });
});

describe('the resource sampler', () => {
  it('asks status only while focused and the container runs, at the interval', async () => {
    const store = twoContexts();
    let asked = 0;
    const api = { status: async () => (asked++, { ...summary(), resources: { cpuPercent: 5 } }) } as unknown as ContainaiApi;
    const deps = { store, api: () => api } as unknown as Deps;
    let now = NOW;
    const sampler = new ResourceSampler(deps, () => 10, () => stub.window.state.focused, () => now);
    try {
      const until = async (cond: () => boolean): Promise<void> => {
        for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
        assert.ok(cond());
      };
      await until(() => asked >= 1);
      assert.equal(store.history(summary())?.latest()?.cpuPercent, 5);
      stub.setWindowFocused(false);
      assert.equal(sampler.active(), false);
      const before = asked;
      now += 1000;
      await new Promise((r) => setTimeout(r, 40));
      assert.equal(asked, before, 'no status while unfocused');
      stub.setWindowFocused(true);
      await until(() => asked > before);
      store.applyChange({ revision: 2, kind: 'stopped', container: summary({ status: 'stopped' }) });
      assert.equal(sampler.active(), false);
    } finally {
      sampler.dispose();
      stub.setWindowFocused(true);
    }
  });
});
