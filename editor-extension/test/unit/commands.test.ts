/** The commands against the vscode stand-in and a recording API: one table, buttons by id. */
import '../support/register-vscode';
import { beforeEach, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as stub from '../support/vscode-stub';
import { fakeApi, makeDeps, runCommand as run, WS } from '../support/commandFakes';
import { COMMANDS, commandOf, registerCommands } from '../../src/commands/table';
import { actionSpec, type ActionId } from '../../src/model/format';
import type { ContainerSummary, StatusResult } from '../../src/protocol';

const PKG = JSON.parse(fs.readFileSync(`${__dirname}/../../../package.json`, 'utf8'));

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return { id: 'abc', name: 'myapp-main', context: 'default', status: 'running', dockerState: 'running', image: 'containai:latest', workspace: WS, dataVolume: 'vol1', sshPort: 2301, keep: false, ...over };
}

const status = (over: Partial<StatusResult> = {}): StatusResult => ({ ...summary(), resources: { cpuPercent: 12.5, memoryBytes: 150 * 1024 * 1024, memoryLimitBytes: 1024 ** 3 }, ...over });

beforeEach(() => stub.resetStub());

describe('the command table', () => {
  it('is exactly the commands package.json contributes, and every menu names one of them', () => {
    const contributed = (PKG.contributes.commands as Array<{ command: string }>).map((c) => c.command).sort();
    assert.deepEqual(COMMANDS.map((c) => c.id).sort(), contributed);
    const menus = Object.values(PKG.contributes.menus as Record<string, Array<{ command: string }>>).flat();
    for (const m of menus) assert.ok(COMMANDS.some((c) => c.id === m.command), `menu names unknown command ${m.command}`);
  });

  it('maps every action to one command, and registers every command', () => {
    const ids: ActionId[] = ['run', 'start', 'stop', 'fresh', 'status', 'stopAndRemove', 'reset', 'keep', 'unkeep', 'openShell', 'openRemoteSsh', 'copySshCommand', 'doctor', 'showServerLog', 'restartServer'];
    for (const id of ids) assert.match(commandOf(id), /^containai\./, id);
    assert.equal(new Set(COMMANDS.filter((c) => c.action).map((c) => c.action)).size, COMMANDS.filter((c) => c.action).length, 'an action names two commands');
    const { deps } = makeDeps(fakeApi({}).api);
    registerCommands({ deps, statusView: { show: () => undefined }, debugState: () => ({}) });
    assert.deepEqual([...stub.registered.keys()].sort(), COMMANDS.map((c) => c.id).sort());
  });
});

describe('lifecycle commands', () => {
  it('stop passes its work-done token (one progress) and reports a declined stop quietly', async () => {
    const { api, calls } = fakeApi({ stop: () => ({ results: [{ containerName: 'myapp-main', context: 'default', action: 'declined', sessions: 'yes' }] }) });
    const { deps, progress } = makeDeps(api);
    deps.store.applyList({ revision: 1, containers: [summary()] });
    await run('containai.stop', deps);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.params.workDoneToken, progress[0], 'the token of our own progress notification');
    assert.equal(calls[0]!.params.workspace, WS);
    assert.equal(stub.calls.filter((c) => c.fn === 'withProgress').length, 1);
    assert.equal(stub.calls.filter((c) => c.fn.startsWith('show')).length, 0);
    assert.equal(deps.store.pending, undefined);
  });

  it('Stop and Remove asks first; dismissing sends nothing', async () => {
    const { api, calls } = fakeApi({});
    const { deps } = makeDeps(api);
    await run('containai.stopAndRemove', deps);
    assert.equal(calls.length, 0);
    stub.answers.showWarningMessage = () => 'Stop and Remove';
    const second = fakeApi({ stop: () => ({ results: [{ containerName: 'myapp-main', context: 'default', action: 'removed' }] }) });
    await run('containai.stopAndRemove', makeDeps(second.api).deps);
    assert.equal(second.calls[0]!.params.remove, true);
  });

  it('Fresh and Reset confirm, then run with fresh / reset', async () => {
    for (const mode of ['fresh', 'reset'] as const) {
      stub.resetStub();
      stub.answers.showWarningMessage = (_t, _o, yes) => yes;
      const { api, calls } = fakeApi({ run: () => ({ action: 'recreate', containerName: 'myapp-main', workspace: WS, dataVolume: 'vol2', image: 'i', context: 'default', state: 'running', dryRun: false }) });
      const { deps } = makeDeps(api);
      deps.store.applyList({ revision: 1, containers: [summary()] });
      await run(`containai.${mode}`, deps);
      assert.equal(calls[0]!.params[mode], true);
      assert.equal(typeof calls[0]!.params.workDoneToken, 'string');
    }
  });

  it('the buttons after a run are mapped by id: Open Shell opens an ssh terminal', async () => {
    stub.answers.showInformationMessage = (_m, ...items) => (items as Array<{ id: string }>).find((i) => i.id === 'openShell');
    const { api } = fakeApi({ run: () => ({ action: 'create', containerName: 'myapp-main', workspace: WS, dataVolume: 'v', image: 'i', context: 'default', state: 'running', dryRun: false, container: summary(), ssh: { host: 'myapp-main', hostname: '127.0.0.1', port: 2301, user: 'agent', command: 'ssh myapp-main' } }) });
    const { deps } = makeDeps(api);
    await run('containai.run', deps);
    await new Promise((r) => setImmediate(r));
    const term = stub.calls.find((c) => c.fn === 'createTerminal');
    assert.ok(term, 'a terminal was opened');
    const opts = term.args[0] as { shellPath: string; shellArgs: string[] };
    assert.equal(opts.shellPath, 'ssh');
    assert.equal(opts.shellArgs.at(-1), 'myapp-main');
  });

  it('an error notification runs the picked button by its action id', async () => {
    stub.answers.showErrorMessage = (_m, ...items) => (items as Array<{ id: string }>)[0];
    const { api } = fakeApi({ keep: () => Promise.reject(Object.assign(new Error('gone'), { code: -32803, data: { reason: 'containerNotFound' } })) });
    const { deps, actions } = makeDeps(api);
    await run('containai.keep', deps);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(actions, ['run']);
  });
});

describe('ssh commands', () => {
  it('Copy SSH Command puts the command on the clipboard, with -F when HOME is not the login home', async () => {
    const { deps } = makeDeps(fakeApi({}).api);
    deps.store.applyList({ revision: 1, containers: [summary()] });
    const home = process.env.HOME;
    process.env.HOME = '/tmp/elsewhere';
    try {
      await run('containai.copySshCommand', deps);
    } finally {
      process.env.HOME = home;
    }
    assert.equal(stub.clipboard.text, os.userInfo().homedir === '/tmp/elsewhere' ? 'ssh myapp-main' : 'ssh -F /tmp/elsewhere/.ssh/config myapp-main');
  });

  it('Open in Remote-SSH opens the ssh-remote folder when the extension is there, else explains how to get it', async () => {
    const { deps } = makeDeps(fakeApi({}).api);
    deps.store.applyList({ revision: 1, containers: [summary()] });
    stub.answers.showWarningMessage = (_m, ...items) => (items as Array<{ id: string }>).find((i) => i.id === 'install');
    await run('containai.openRemoteSsh', deps);
    const warn = stub.calls.find((c) => c.fn === 'showWarningMessage')!;
    assert.match(String(warn.args[0]), /Remote - SSH extension \(ms-vscode-remote\.remote-ssh\)/);
    assert.deepEqual(stub.calls.find((c) => c.fn === 'executeCommand')?.args, ['workbench.extensions.search', '@id:ms-vscode-remote.remote-ssh']);
    stub.resetStub();
    stub.installedExtensions.add('ms-vscode-remote.remote-ssh');
    await run('containai.openRemoteSsh', deps);
    const open = stub.calls.find((c) => c.fn === 'executeCommand')!;
    assert.equal(open.args[0], 'vscode.openFolder');
    assert.equal(String(open.args[1]), 'vscode-remote://ssh-remote+myapp-main/home/agent/workspace');
  });

  it('refuses a stopped container with a reason instead of a terminal that fails', async () => {
    const { deps } = makeDeps(fakeApi({}).api);
    deps.store.applyList({ revision: 1, containers: [summary({ status: 'stopped' })] });
    await run('containai.openShell', deps);
    assert.equal(stub.calls.filter((c) => c.fn === 'createTerminal').length, 0);
    assert.match(String(stub.calls.find((c) => c.fn === 'showWarningMessage')?.args[0]), /is stopped\. Start it first/);
  });
});

describe('maintenance and inspection commands', () => {
  it('Garbage Collect offers unused images: dry run, then the real run, both with images', async () => {
    stub.answers.showInputBox = () => '1d';
    stub.answers.showQuickPick = (items) => (items as Array<{ images: boolean }>).find((i) => i.images);
    stub.answers.showWarningMessage = () => 'Remove';
    const result = (dryRun: boolean) => ({ age: '1d', ageSeconds: 86400, dryRun, declined: false, candidates: [{ name: 'old-main', context: 'default', state: 'exited', age: '3d' }], removed: dryRun ? [] : [{ name: 'old-main' }], skipped: [], failed: [], images: { candidates: [{ reference: 'containai:old', id: 'x', context: 'default' }], removed: dryRun ? [] : [{ reference: 'containai:old' }], skipped: [] } });
    const { api, calls } = fakeApi({ gc: (p) => result(p.dryRun === true) });
    const { deps } = makeDeps(api);
    await run('containai.gc', deps);
    assert.deepEqual(calls.map((c) => [c.params.dryRun ?? false, c.params.force ?? false, c.params.images]), [[true, false, true], [false, true, true]]);
    const modal = stub.calls.find((c) => c.fn === 'showWarningMessage')!;
    assert.match(String((modal.args[1] as { detail: string }).detail), /image containai:old/);
    assert.match(String(stub.calls.find((c) => c.fn === 'showInformationMessage')?.args[0]), /removed 1 container and 1 image/);
  });

  it('Status shows the status in the Status view and records a resources sample', async () => {
    const { api } = fakeApi({ status: () => status() });
    const { deps } = makeDeps(api);
    const shown: StatusResult[] = [];
    const spec = COMMANDS.find((c) => c.id === 'containai.status')!;
    await spec.run({ deps, statusView: { show: (st) => shown.push(st) }, debugState: () => ({}) });
    assert.equal(shown[0]?.name, 'myapp-main');
    assert.equal(deps.store.history(summary())?.latest()?.cpuPercent, 12.5);
  });

  it('the status bar quick pick never offers Start on a dead container, and runs the pick by id', async () => {
    stub.answers.showQuickPick = (items) => (items as Array<{ id: string }>).find((i) => i.id === 'fresh');
    const { deps, actions } = makeDeps(fakeApi({}).api);
    deps.store.applyList({ revision: 1, containers: [summary({ status: 'dead' })] });
    await run('containai.statusBarActions', deps);
    const offered = (stub.calls.find((c) => c.fn === 'showQuickPick')!.args[0] as Array<{ id: string; label: string }>).map((i) => i.id);
    assert.ok(!offered.includes('start'));
    assert.equal(actionSpec('fresh').id, 'fresh');
    assert.deepEqual(actions, ['fresh']);
  });
});
