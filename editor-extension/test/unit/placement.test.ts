/** The Run picker: when Run asks for a Docker context, what it offers, in which order, and what it runs. */
import '../support/register-vscode';
import { beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as stub from '../support/vscode-stub';
import { fakeApi, makeDeps, runCommand, WS } from '../support/commandFakes';
import { contextChoices, shouldAsk } from '../../src/model/placement';
import { ContainerStore } from '../../src/model/store';
import type { ContainerSummary, EngineStatusParams, RunResult } from '../../src/protocol';

const ok = (context: string, endpoint = `unix:///run/${context}.sock`): EngineStatusParams => ({ health: 'ok', message: 'Docker 20.10 is reachable', context, endpoint });
const dead = (context: string): EngineStatusParams => ({ health: 'error', message: 'Cannot connect (retrying)', context });
const THREE = [ok('default'), dead('far'), ok('near')];

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id: 'abc', name: 'myapp-main', context: 'default', status: 'running', dockerState: 'running', image: 'containai:latest', workspace: WS, keep: false, ...over };
}

function runResult(over: Partial<RunResult> = {}): RunResult {
  return { action: 'create', containerName: 'myapp-main', workspace: WS, dataVolume: 'containai-data', image: 'containai:latest', context: 'default', state: 'absent', dryRun: true, ...over };
}

function storeWith(engines: EngineStatusParams[], containers: ContainerSummary[] = []): ContainerStore {
  const store = new ContainerStore(WS);
  store.setServerState('running');
  store.applyList({ revision: 1, containers });
  for (const e of engines) store.applyEngineStatus(e);
  return store;
}

/** The labels of the quick pick shown, if any. */
function offered(): string[] | undefined {
  const pick = stub.calls.find((c) => c.fn === 'showQuickPick');
  return pick ? (pick.args[0] as Array<{ label: string }>).map((i) => i.label) : undefined;
}

/** An API whose dry run says where Run goes (`selected`) and whose real run creates there. */
function serverSelecting(selected: string | Error, existing?: { name: string; context: string }) {
  return fakeApi({
    run: (p) => {
      if (p.dryRun && selected instanceof Error) throw selected;
      if (p.dryRun) return existing ? runResult({ action: 'attach', containerName: existing.name, context: existing.context, state: 'running' }) : runResult({ context: selected as string });
      return runResult({ dryRun: false, state: 'running', context: String(p.context ?? selected) });
    },
  });
}

beforeEach(() => stub.resetStub());

describe('when Run asks for a context', () => {
  it('asks for a first container when two or more contexts answer, and not because of a dead one', () => {
    assert.equal(shouldAsk({ always: false, engines: THREE }), true);
    assert.equal(shouldAsk({ always: false, engines: [ok('default'), dead('far')] }), false);
    assert.equal(shouldAsk({ always: false, engines: [ok('default'), { ...ok('near'), health: 'warning' }] }), true, 'warning: it answers, only its events are refused');
    assert.equal(shouldAsk({ always: false, engines: [] }), false, 'nothing reported yet');
  });

  it('never asks with the setting or a container of the workspace (on any context); "Run on Context…" always asks', () => {
    assert.equal(shouldAsk({ always: false, setting: 'near', engines: THREE }), false);
    assert.equal(shouldAsk({ always: false, existing: { name: 'myapp-main', context: 'near' }, engines: THREE }), false);
    assert.equal(shouldAsk({ always: true, setting: 'near', existing: { name: 'myapp-main', context: 'near' }, engines: [ok('default')] }), true);
  });
});

describe('what Run offers', () => {
  it('the reachable contexts only: the selected one first (whatever its name), then by name, with counts and endpoints', () => {
    const containers = [summary({ context: 'near' }), summary({ name: 'b', context: 'near' }), summary({ name: 'c', context: 'zeta' })];
    const choices = contextChoices([ok('zeta'), ...THREE], containers, 'near');
    assert.deepEqual(
      choices.map((c) => [c.label, c.description, c.detail]),
      [
        ['near', 'selected · 2 ContainAI containers', 'unix:///run/near.sock'],
        ['default', 'no ContainAI containers', 'unix:///run/default.sock'],
        ['zeta', '1 ContainAI container', 'unix:///run/zeta.sock'],
      ],
    );
  });

  it('names the context that holds the workspace\'s container', () => {
    const choices = contextChoices(THREE, [summary()], 'default', { name: 'myapp-main', context: 'default' });
    assert.equal(choices[0]!.description, 'selected · 1 ContainAI container · holds myapp-main');
  });
});

describe('Run with several contexts', () => {
  it('no container yet, two answer: picks among them (the dry run\'s context first) and runs on the one picked', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ context: string }>).find((i) => i.context === 'default');
    const { api, calls } = serverSelecting('near');
    await runCommand('containai.run', makeDeps(api, storeWith(THREE)).deps);
    assert.deepEqual(offered(), ['near', 'default']);
    assert.deepEqual(calls.map((c) => [c.params.dryRun ?? false, c.params.context]), [[true, undefined], [false, 'default']]);
  });

  it('Escape cancels: nothing runs, no progress', async () => {
    const { api, calls } = serverSelecting('default');
    await runCommand('containai.run', makeDeps(api, storeWith(THREE)).deps);
    assert.deepEqual(offered(), ['default', 'near']);
    assert.deepEqual(calls.map((c) => c.params.dryRun), [true]);
    assert.equal(stub.calls.filter((c) => c.fn === 'withProgress').length, 0);
  });

  it('does not ask with one answering context, with the setting, or once the workspace has a container', async () => {
    const cases: Array<{ store: ContainerStore; setting?: string; context?: string }> = [
      { store: storeWith([ok('default'), dead('far')]) },
      { store: storeWith(THREE), setting: 'near', context: 'near' },
      { store: storeWith(THREE, [summary({ context: 'near' })]) },
    ];
    for (const k of cases) {
      stub.resetStub();
      const { api, calls } = serverSelecting('default');
      const { deps } = makeDeps(api, k.store);
      deps.dockerContext = () => k.setting;
      await runCommand('containai.run', deps);
      assert.equal(offered(), undefined);
      assert.deepEqual(calls.map((c) => [c.params.dryRun ?? false, c.params.context]), [[false, k.context]]);
    }
  });

  it('a container only the server knows of yet (the dry run attaches): Run goes there without asking', async () => {
    const { api, calls } = serverSelecting('default', { name: 'myapp-main', context: 'near' });
    await runCommand('containai.run', makeDeps(api, storeWith(THREE)).deps);
    assert.equal(offered(), undefined);
    assert.deepEqual(calls.map((c) => c.params.dryRun ?? false), [true, false]);
  });

  it('a failing dry run (the selected engine is down) still offers the contexts that answer, by name', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ context: string }>)[1];
    const { api, calls } = serverSelecting(Object.assign(new Error('engine unavailable'), { code: -32803, data: { reason: 'engineUnavailable' } }));
    await runCommand('containai.run', makeDeps(api, storeWith(THREE)).deps);
    assert.deepEqual(offered(), ['default', 'near']);
    assert.equal(calls.at(-1)!.params.context, 'near');
  });
});

describe('Open Agent Session… with several contexts', () => {
  it('a first container: the agent, then the same context picker as Run; the session runs on the one picked', async () => {
    stub.answers.showQuickPick = (items) => {
      const list = items as Array<{ label: string; context?: string }>;
      return list.find((i) => i.context === 'near') ?? list.find((i) => i.label === 'claude');
    };
    const { api, calls } = serverSelecting('default');
    await runCommand('containai.openAgentSession', makeDeps(api, storeWith(THREE)).deps);
    const picks = stub.calls.filter((c) => c.fn === 'showQuickPick').map((c) => (c.args[0] as Array<{ label: string }>).map((i) => i.label));
    assert.deepEqual(picks.at(-1), ['default', 'near']);
    assert.deepEqual(calls.map((c) => [c.params.dryRun ?? false, c.params.context, c.params.agent]), [[true, undefined, undefined], [false, 'near', 'claude']]);
  });
});

describe('"Run on Context…"', () => {
  it('asks even with one answering context and the setting, and runs on the one picked', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ context: string }>)[0];
    const { api, calls } = serverSelecting('default');
    const { deps } = makeDeps(api, storeWith([ok('default'), dead('far')]));
    deps.dockerContext = () => 'default';
    await runCommand('containai.runOnContext', deps);
    assert.deepEqual(offered(), ['default']);
    assert.deepEqual(calls.map((c) => [c.params.dryRun ?? false, c.params.context]), [[false, 'default']], 'the setting names the default: no dry run');
  });

  it('the workspace\'s container is on another context: says so plainly and runs nothing; on its own context it runs', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ context: string }>).find((i) => i.context === 'near');
    const { api, calls } = serverSelecting('default');
    await runCommand('containai.runOnContext', makeDeps(api, storeWith(THREE, [summary()])).deps);
    const warning = stub.calls.find((c) => c.fn === 'showWarningMessage');
    assert.match(String(warning?.args[0]), /already has a container, myapp-main, on context 'default'.*Stop and Remove it first to create one on 'near'/);
    assert.deepEqual(calls.map((c) => c.params.dryRun), [true]);
    stub.resetStub();
    stub.answers.showQuickPick = (items) => (items as Array<{ context: string }>).find((i) => i.context === 'default');
    const again = serverSelecting('default');
    await runCommand('containai.runOnContext', makeDeps(again.api, storeWith(THREE, [summary()])).deps);
    assert.deepEqual(again.calls.map((c) => [c.params.dryRun ?? false, c.params.context]), [[true, undefined], [false, 'default']]);
  });

  it('no context answers: says so, with Doctor, and runs nothing', async () => {
    const { api, calls } = serverSelecting('default');
    await runCommand('containai.runOnContext', makeDeps(api, storeWith([dead('default')])).deps);
    assert.equal(offered(), undefined);
    assert.match(String(stub.calls.find((c) => c.fn === 'showErrorMessage')?.args[0]), /no Docker context answers/);
    assert.deepEqual(calls.map((c) => c.params.dryRun), [true]);
  });
});
