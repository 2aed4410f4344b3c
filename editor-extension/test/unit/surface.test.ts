/** What the other features add, as the editor shows it: agent sessions, idle stop, outdated, hosts, the shared server. */
import '../support/register-vscode';
import { beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as stub from '../support/vscode-stub';
import { ContainerStore } from '../../src/model/store';
import { statusBarView } from '../../src/model/statusView';
import { actionsFor, rowDescription } from '../../src/model/format';
import { serverLaunch } from '../../src/model/serverCommand';
import { ContainerTreeProvider } from '../../src/tree';
import { idleWarning, openAgentSession } from '../../src/commands/session';
import { stopOnWindowClose } from '../../src/commands/lifecycle';
import type { Deps } from '../../src/commands/deps';
import type { ContainaiApi } from '../../src/rpc';
import type { ContainerSummary } from '../../src/protocol';
import { makeDeps, WS } from '../support/commandFakes';
const NOW = Date.parse('2026-11-27T12:00:00Z');

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id: 'abc', name: 'myapp-main', context: 'default', status: 'running', dockerState: 'running', image: 'containai:latest', workspace: WS, sshPort: 2301, keep: false, startedAt: '2026-11-27T11:00:00Z', ...over };
}

function world(api: Partial<Record<string, (...a: unknown[]) => unknown>>): { deps: Deps; store: ContainerStore; calls: Array<[string, unknown]> } {
  const calls: Array<[string, unknown]> = [];
  const rec = (name: string) => async (...a: unknown[]) => {
    calls.push([name, a[0] === 'containai/postponeIdleStop' ? a : a[0]]);
    return api[name]?.(...a);
  };
  const fake = { run: rec('run'), stop: rec('stop'), request: rec('request') } as unknown as ContainaiApi;
  const store = new ContainerStore(WS);
  store.applyList({ revision: 1, containers: [summary()] });
  return { deps: makeDeps(fake, store).deps, store, calls };
}

beforeEach(() => stub.resetStub());

describe('agent sessions', () => {
  it('Open Agent Session runs the argv the server answers with, for the picked agent', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ agent?: string }>).find((i) => i.agent === 'gemini');
    const argv = ['ssh', '-t', 'myapp-main', "cd /home/agent/workspace && exec gemini"];
    const { deps, calls } = world({ run: () => ({ containerName: 'myapp-main', session: { argv, remoteCommand: 'x', tty: true, agent: 'gemini' } }) });
    await openAgentSession(deps);
    const params = calls.find(([n]) => n === 'run')![1] as { agent: string; tty: boolean; workspace: string };
    assert.deepEqual([params.agent, params.tty, params.workspace], ['gemini', true, WS]);
    const term = stub.calls.find((c) => c.fn === 'createTerminal')!.args[0] as { shellPath: string; shellArgs: string[]; name: string };
    assert.deepEqual([term.shellPath, ...term.shellArgs], argv);
    assert.equal(term.name, 'ContainAI: gemini in myapp-main');
  });
});

describe('idle auto-stop', () => {
  it('the warning\'s "Keep Running" postpones the stop of that container', async () => {
    stub.answers.showWarningMessage = (_m, ...items) => (items as Array<{ id: string }>)[0];
    const { deps, calls } = world({ request: () => ({ containerName: 'myapp-main', context: 'default', autoStopAt: '2026-11-27T14:00:00Z' }) });
    await idleWarning(deps, { containerName: 'myapp-main', context: 'default', autoStopAt: '2026-11-27T12:05:00Z' }, () => NOW);
    assert.match(String(stub.calls.find((c) => c.fn === 'showWarningMessage')!.args[0]), /stops by itself in 5 min/);
    const req = calls.find(([n]) => n === 'request')![1] as [string, { container: string; context: string }];
    assert.equal(req[0], 'containai/postponeIdleStop');
    assert.deepEqual(req[1], { container: 'myapp-main', context: 'default' });
  });

  it('the status bar counts down, and says "stopped (idle)" after an idle stop', () => {
    const { store } = world({});
    store.applyChange({ revision: 2, kind: 'updated', container: summary({ autoStopAt: '2026-11-27T12:30:00Z', idleStop: '2h' }) });
    assert.match(statusBarView(store, NOW).tooltip, /Stops when idle at \d\d:\d\d \(in 30 min\) unless used/);
    store.applyChange({ revision: 3, kind: 'stopped', reason: 'idle', container: summary({ status: 'stopped' }) });
    assert.equal(statusBarView(store, NOW).text, '$(vm-outline) myapp-main: stopped (idle)');
    store.applyChange({ revision: 4, kind: 'started', container: summary() });
    store.applyChange({ revision: 5, kind: 'stopped', container: summary({ status: 'stopped' }) });
    assert.equal(statusBarView(store, NOW).text, '$(vm-outline) myapp-main: stopped');
  });

  it('stopOnWindowClose stops the running workspace container without asking', async () => {
    const { deps, calls } = world({ stop: () => ({ results: [] }) });
    await stopOnWindowClose(deps);
    assert.deepEqual(calls.find(([n]) => n === 'stop')![1], { container: 'myapp-main', context: 'default', force: true });
  });
});

describe('outdated containers and hosts', () => {
  it('an outdated container is badged and offered "Fresh to Update" first', () => {
    const c = summary({ outdated: true, outdatedReason: 'Dockerfile changed' });
    assert.match(rowDescription(c, NOW), /outdated$/);
    const first = actionsFor(c)[0]!;
    assert.deepEqual([first.id, first.label, first.description], ['fresh', '$(refresh) Fresh to Update', 'Dockerfile changed']);
    assert.equal(actionsFor(c).filter((a) => a.id === 'fresh').length, 1);
    const { store } = world({});
    store.upsert(c);
    assert.match(statusBarView(store, NOW).tooltip, /Outdated: Dockerfile changed — Fresh to update/);
  });

  it('a context on a remote host shows its host on the group and in the tooltip', () => {
    const { store } = world({});
    store.applyList({ revision: 2, containers: [summary(), summary({ id: 'r', name: 'far-main', context: 'far', host: 'ssh://me@far', workspace: '/w/far' })] });
    const tree = new ContainerTreeProvider(store, () => NOW, '/home/me');
    const groups = tree.getChildren();
    const far = tree.getTreeItem(groups.find((g) => g.kind === 'group' && g.context === 'far')!) as unknown as stub.TreeItem;
    assert.equal(far.description, '1 container · ssh://me@far');
    const row = tree.getTreeItem(tree.getChildren(groups.find((g) => g.kind === 'group' && g.context === 'far'))[0]!) as unknown as stub.TreeItem;
    assert.match((row.tooltip as stub.MarkdownString).value, /Host: ssh:\/\/me@far/);
    tree.dispose();
  });
});

describe('the shared server', () => {
  it('containai.sharedServer starts the server as a relay to the shared one', () => {
    assert.deepEqual(serverLaunch({ sharedServer: true }, {}).args, ['--remote', 'auto']);
    assert.deepEqual(serverLaunch({ pythonPath: '/v/bin/python', sharedServer: true }, {}).args, ['-m', 'containai_rpc', '--remote', 'auto']);
    assert.deepEqual(serverLaunch({}, {}).args, []);
  });
});
