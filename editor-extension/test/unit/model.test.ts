/** The state model and its rendering: no `vscode` anywhere in these imports. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ContainerStore } from '../../src/model/store';
import { actionsFor, ageText, contextValue, formatDuration, rowDescription, stateIcon, tooltipMarkdown } from '../../src/model/format';
import { statusBarView, treeMessage } from '../../src/model/statusView';
import { describeError } from '../../src/model/errors';
import { serverLaunch } from '../../src/model/serverCommand';
import { templatesDir } from '../../src/model/templates';
import { compact } from '../../src/rpc';
import type { ContainerSummary } from '../../src/protocol';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const WS = '/home/me/src/myapp';

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'abc123',
    name: 'myapp-main',
    context: 'default',
    status: 'running',
    dockerState: 'running',
    image: 'containai:latest',
    workspace: WS,
    dataVolume: 'containai-data',
    sshPort: 2301,
    keep: false,
    createdAt: '2026-11-27T08:00:00Z',
    startedAt: '2026-11-27T09:00:00Z',
    ...over,
  };
}

function readyStore(containers: ContainerSummary[] = [], revision = 1): ContainerStore {
  const s = new ContainerStore(WS);
  s.setServerState('running');
  s.applyList({ revision, containers });
  s.applyEngineStatus({ health: 'ok', message: 'ok', context: 'default' });
  return s;
}

describe('formatDuration / ageText', () => {
  it('renders coarse, stable durations', () => {
    assert.equal(formatDuration(5_000), '< 1 min');
    assert.equal(formatDuration(59_999), '< 1 min');
    assert.equal(formatDuration(60_000), '1 min');
    assert.equal(formatDuration(59 * 60_000), '59 min');
    assert.equal(formatDuration(3 * 3600_000 + 10 * 60_000), '3 h');
    assert.equal(formatDuration(47 * 3600_000), '47 h');
    assert.equal(formatDuration(2 * 86400_000 + 5), '2 d');
  });

  it('says "Up 3 h" for running, "Stopped 2 d" for stopped', () => {
    assert.equal(ageText(summary(), NOW), 'Up 3 h');
    assert.equal(
      ageText(summary({ status: 'stopped', dockerState: 'exited', finishedAt: '2026-11-25T11:00:00Z' }), NOW),
      'Stopped 2 d',
    );
    assert.equal(ageText(summary({ status: 'created', startedAt: undefined }), NOW), 'Created 4 h ago');
  });

  it('treats Docker zero time and missing timestamps as unknown', () => {
    assert.equal(ageText(summary({ startedAt: '0001-01-01T00:00:00Z' }), NOW), 'Up');
    assert.equal(ageText(summary({ status: 'stopped', startedAt: undefined, finishedAt: undefined }), NOW), 'Stopped');
  });

  it('never renders a negative age (clock skew)', () => {
    assert.equal(ageText(summary({ startedAt: '2026-11-27T12:05:00Z' }), NOW), 'Up < 1 min');
  });
});

describe('rows', () => {
  it('encodes state, keep, ssh and current in contextValue', () => {
    assert.equal(contextValue(summary(), true), 'containaiContainer.running.unkept.ssh.current');
    assert.equal(contextValue(summary({ status: 'stopped', keep: true, sshPort: undefined }), false), 'containaiContainer.stopped.kept');
  });

  it('matches the package.json when-regexes', async () => {
    const pkg = (await import('node:fs')).readFileSync(`${__dirname}/../../../package.json`, 'utf8');
    const menus = JSON.parse(pkg).contributes.menus['view/item/context'] as Array<{ command: string; when: string; group: string }>;
    const inline = (cv: string): string[] =>
      menus
        .filter((m) => m.group.startsWith('inline'))
        .filter((m) => {
          const re = /viewItem =~ \/(.*)\/$/.exec(m.when.split(' && ')[1] ?? '');
          return re !== null && new RegExp(re[1]!).test(cv);
        })
        .map((m) => m.command)
        .sort();
    assert.deepEqual(inline(contextValue(summary(), true)), ['containai.fresh', 'containai.status', 'containai.stop']);
    assert.deepEqual(inline(contextValue(summary({ status: 'stopped' }), false)), ['containai.fresh', 'containai.start', 'containai.status']);
    assert.deepEqual(inline(contextValue(summary({ status: 'paused' }), false)), ['containai.fresh', 'containai.status']);
    const destructive = menus.filter((m) => m.group.startsWith('3_destructive')).map((m) => m.command).sort();
    assert.deepEqual(destructive, ['containai.reset', 'containai.stopAndRemove']);
  });

  it('describes a row with age, short workspace and keep', () => {
    assert.equal(rowDescription(summary({ keep: true }), NOW, '/home/me'), 'Up 3 h · ~/src/myapp · kept');
    assert.equal(rowDescription(summary({ workspace: undefined }), NOW, '/home/me'), 'Up 3 h');
    assert.equal(rowDescription(summary(), NOW, '/home/me', true), 'Up 3 h · this workspace');
  });

  it('icons by state', () => {
    assert.deepEqual(stateIcon('running'), { id: 'vm-running', color: 'charts.green' });
    assert.equal(stateIcon('stopped').id, 'vm-outline');
    assert.equal(stateIcon('dead').color, 'charts.red');
    assert.equal(stateIcon('weird').id, 'question');
  });

  it('tooltip has image, volume, ssh port, keep, escaped', () => {
    const md = tooltipMarkdown(summary({ name: 'my_app-main' }), NOW);
    assert.match(md, /\*\*my\\_app\\-main\*\*/);
    assert.match(md, /Image: containai:latest/);
    assert.match(md, /Data volume: containai\\-data/);
    assert.match(md, /SSH port: 127\\\.0\\\.0\\\.1:2301/);
    assert.match(md, /Keep: no/);
  });

  it('offers the actions valid in each state', () => {
    const ids = (c: ContainerSummary | undefined, down = false): string[] => actionsFor(c, { engineDown: down }).map((a) => a.id);
    assert.deepEqual(ids(undefined), ['run', 'doctor', 'showServerLog']);
    assert.ok(ids(summary()).includes('stop') && !ids(summary()).includes('start'));
    assert.ok(ids(summary()).includes('openShell'));
    assert.ok(!ids(summary({ sshPort: undefined })).includes('openShell'));
    assert.ok(ids(summary({ status: 'stopped' })).includes('start') && !ids(summary({ status: 'stopped' })).includes('stop'));
    assert.ok(ids(summary({ keep: true })).includes('unkeep'));
    assert.deepEqual(ids(summary(), true), ['doctor', 'showServerLog', 'restartServer']);
    assert.ok(actionsFor(summary()).filter((a) => a.destructive).every((a) => ['stopAndRemove', 'reset'].includes(a.id)));
  });
});

describe('ContainerStore', () => {
  it('puts the workspace container first, then running, then by name', () => {
    const s = readyStore([
      summary({ id: '1', name: 'zeta', workspace: '/w/zeta', status: 'running' }),
      summary({ id: '2', name: 'alpha', workspace: '/w/alpha', status: 'stopped' }),
      summary({ id: '3', name: 'myapp-main', workspace: WS + '/', status: 'stopped' }),
      summary({ id: '4', name: 'beta', workspace: '/w/beta', status: 'running' }),
    ]);
    assert.deepEqual(s.sorted().map((c) => c.name), ['myapp-main', 'beta', 'zeta', 'alpha']);
    assert.equal(s.current()?.name, 'myapp-main');
  });

  it('applies changes in order and detects gaps and stale revisions', () => {
    const s = readyStore([], 5);
    let fired = 0;
    s.onDidChange(() => fired++);
    assert.deepEqual(s.applyChange({ revision: 6, kind: 'created', container: summary({ status: 'created' }) }), { gap: false, applied: true });
    assert.equal(s.current()?.status, 'created');
    assert.deepEqual(s.applyChange({ revision: 6, kind: 'started', container: summary() }), { gap: false, applied: false });
    assert.equal(s.current()?.status, 'created', 'a stale notification is ignored');
    assert.deepEqual(s.applyChange({ revision: 9, kind: 'started', container: summary() }), { gap: true, applied: true });
    assert.equal(s.current()?.status, 'running');
    assert.equal(s.revision, 9);
    assert.equal(fired, 2);
  });

  it('a re-list with nothing new does not re-render (and keeps the revision)', () => {
    const s = readyStore([summary()], 5);
    let fired = 0;
    s.onDidChange(() => fired++);
    s.applyList({ revision: 7, containers: [summary()] });
    assert.equal(fired, 0);
    assert.equal(s.revision, 7);
    s.applyList({ revision: 8, containers: [summary({ outdated: true })] });
    assert.equal(fired, 1);
    assert.equal(s.current()?.outdated, true);
  });

  it('a change before any list is a gap', () => {
    const s = new ContainerStore(WS);
    s.setServerState('running');
    assert.equal(s.applyChange({ revision: 1, kind: 'created', container: summary() }).gap, true);
  });

  it('removes on "removed" and replaces by name on "recreated"', () => {
    const s = readyStore([summary()], 1);
    s.applyChange({ revision: 2, kind: 'recreated', container: summary({ id: 'new-id' }) });
    assert.equal(s.containers.length, 1);
    assert.equal(s.containers[0]?.id, 'new-id');
    s.applyChange({ revision: 3, kind: 'removed', container: summary({ id: 'new-id', status: 'removed' }) });
    assert.equal(s.containers.length, 0);
    assert.equal(s.current(), undefined);
  });

  it('a server restart forgets the revision and the engine verdict', () => {
    const s = readyStore([summary()], 7);
    s.applyEngineStatus({ health: 'error', message: 'down', context: 'default' });
    s.setServerState('starting');
    assert.equal(s.engineDown, false);
    assert.equal(s.loaded, false);
    s.setServerState('running');
    assert.equal(s.applyChange({ revision: 1, kind: 'stopped', container: summary({ status: 'stopped' }) }).gap, true);
  });

  it('matches the current container by name when the path differs', () => {
    const s = readyStore([summary({ workspace: undefined })]);
    assert.equal(s.current(), undefined);
    s.setWorkspaceContainerName('myapp-main');
    assert.equal(s.current()?.name, 'myapp-main');
  });
});

describe('statusBarView', () => {
  it('walks through the states', () => {
    const s = new ContainerStore(WS);
    assert.equal(statusBarView(s, NOW).state, 'server-starting');
    s.setServerState('running');
    assert.equal(statusBarView(s, NOW).state, 'loading');
    assert.match(statusBarView(s, NOW).text, /sync~spin/);
    s.applyList({ revision: 1, containers: [] });
    assert.deepEqual([statusBarView(s, NOW).text, statusBarView(s, NOW).state], ['$(vm-outline) no container', 'absent']);
    s.setPending({ label: 'starting…' });
    assert.equal(statusBarView(s, NOW).text, '$(sync~spin) starting…');
    s.setPending(undefined);
    s.applyChange({ revision: 2, kind: 'started', container: summary() });
    assert.deepEqual([statusBarView(s, NOW).text, statusBarView(s, NOW).severity], ['$(vm-running) myapp-main', undefined]);
    assert.match(statusBarView(s, NOW).tooltip, /running \(Up 3 h\)/);
    s.applyChange({ revision: 3, kind: 'stopped', container: summary({ status: 'stopped', finishedAt: '2026-11-27T11:00:00Z' }) });
    assert.deepEqual([statusBarView(s, NOW).text, statusBarView(s, NOW).state], ['$(vm-outline) myapp-main: stopped', 'stopped']);
  });

  it('shows the error state when the engine is unreachable, and recovers', () => {
    const s = readyStore([summary()]);
    s.applyEngineStatus({ health: 'error', message: 'Cannot connect to the Docker daemon', context: 'default', endpoint: 'unix:///nowhere.sock' });
    const v = statusBarView(s, NOW);
    assert.equal(v.state, 'engine-error');
    assert.equal(v.severity, 'error');
    assert.match(v.text, /Docker unreachable/);
    assert.match(v.tooltip, /unix:\/\/\/nowhere\.sock/);
    assert.match(treeMessage(s)?.text ?? '', /Docker engine unreachable at unix:\/\/\/nowhere\.sock: Cannot connect/);
    s.applyEngineStatus({ health: 'ok', message: 'ok', context: 'default' });
    assert.equal(statusBarView(s, NOW).state, 'running');
    assert.equal(treeMessage(s), undefined);
  });

  it('a failed list is an engine error too (not an empty list)', () => {
    const s = new ContainerStore(WS);
    s.setServerState('running');
    s.setListError('engine unavailable');
    assert.equal(statusBarView(s, NOW).state, 'engine-error');
    assert.equal(treeMessage(s)?.severity, 'error');
  });

  it('server down is an error state', () => {
    const s = readyStore();
    s.setServerState('failed', 'spawn containai-rpc ENOENT');
    const v = statusBarView(s, NOW);
    assert.equal(v.state, 'server-down');
    assert.equal(v.severity, 'error');
    assert.match(treeMessage(s)?.text ?? '', /ENOENT/);
  });
});

describe('errors', () => {
  it('shows the server message and offers Doctor for an engine failure', () => {
    const e = describeError({ code: -32803, message: 'Docker engine unreachable', data: { reason: 'engineUnavailable' } }, 'Run');
    assert.equal(e.message, 'Run failed: Docker engine unreachable');
    assert.deepEqual(e.actions, ['doctor', 'showServerLog']);
    assert.equal(e.quiet, false);
  });
  it('appends the hint', () => {
    const e = describeError({ code: -32803, message: 'Image not found.', data: { reason: 'imageNotFound', hint: 'Build it.' } }, 'Run');
    assert.equal(e.message, 'Run failed: Image not found. Build it.');
  });
  it('is quiet for a cancellation', () => {
    assert.equal(describeError({ code: -32800, message: 'cancelled' }, 'Run').quiet, true);
  });
});

describe('serverLaunch', () => {
  it('defaults to containai-rpc on PATH with the base env', () => {
    const l = serverLaunch({}, { PATH: '/bin', EMPTY: undefined });
    assert.equal(l.command, 'containai-rpc');
    assert.deepEqual(l.args, []);
    assert.equal(l.env.PATH, '/bin');
    assert.equal('EMPTY' in l.env, false);
  });
  it('pythonPath runs the module', () => {
    const l = serverLaunch({ serverCommand: 'containai-rpc', pythonPath: '/venv/bin/python' }, {});
    assert.deepEqual([l.command, ...l.args], ['/venv/bin/python', '-m', 'containai_rpc']);
  });
  it('an explicit serverCommand wins; arrays carry args; serverEnv merges and null removes', () => {
    const l = serverLaunch({ serverCommand: ['/x/containai-rpc', '--log-level', 'debug'], pythonPath: '/p', serverEnv: { A: '1', DROP: null, N: 3 } }, { DROP: 'x' });
    assert.deepEqual([l.command, ...l.args], ['/x/containai-rpc', '--log-level', 'debug']);
    assert.equal(l.env.A, '1');
    assert.equal(l.env.N, '3');
    assert.equal('DROP' in l.env, false);
  });
});

describe('compact', () => {
  it('omits undefined and null fields (optional fields are omitted on the wire)', () => {
    assert.deepEqual(compact({ a: 1, b: undefined, c: null, d: false }), { a: 1, d: false });
  });
});

describe('templatesDir (watched so a template edit re-lists: outdated is not pushed)', () => {
  it('is under XDG_CONFIG_HOME, else ~/.config; a relative XDG_CONFIG_HOME is ignored', () => {
    assert.equal(templatesDir({ HOME: '/home/me', XDG_CONFIG_HOME: '/x/conf' }), '/x/conf/containai/templates');
    assert.equal(templatesDir({ HOME: '/home/me' }), '/home/me/.config/containai/templates');
    assert.equal(templatesDir({ HOME: '/home/me', XDG_CONFIG_HOME: 'rel' }), '/home/me/.config/containai/templates');
    assert.equal(templatesDir({}), undefined);
  });
});
