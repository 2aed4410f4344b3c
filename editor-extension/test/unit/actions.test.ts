/**
 * Start is offered only where `run` can start or attach: on a dead (or paused, restarting)
 * container the server answers `unexpectedState`, so the quick pick and the tree's menus
 * offer Fresh there instead.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { actionsFor, contextValue, RUN_REUSES } from '../../src/model/format';
import type { ContainerStatus as Status, ContainerSummary } from '../../src/protocol';

function container(status: Status): ContainerSummary {
  return {
    id: 'abc123',
    name: 'myapp-main',
    context: 'default',
    status,
    dockerState: status === 'stopped' ? 'exited' : status,
    image: 'containai:latest',
    workspace: '/home/me/src/myapp',
    dataVolume: 'containai-data',
    keep: false,
    createdAt: '2026-11-27T08:00:00Z',
  } as ContainerSummary;
}

type Menu = { command: string; when: string; group: string };
const menus = (): Menu[] =>
  JSON.parse(fs.readFileSync(`${__dirname}/../../../package.json`, 'utf8')).contributes.menus['view/item/context'];

/** The commands a tree row's menu shows: inline (the row's buttons) or in the context menu. */
function treeCommands(status: Status, inline: boolean): string[] {
  const cv = contextValue(container(status), false);
  return menus()
    .filter((m) => m.group.startsWith('inline') === inline)
    .filter((m) => {
      const re = /viewItem =~ \/(.*)\/$/.exec(m.when.split(' && ')[1] ?? '');
      return re !== null && new RegExp(re[1]!).test(cv);
    })
    .map((m) => m.command);
}

const REFUSED: Status[] = ['dead', 'paused', 'restarting'];

describe('actions per state', () => {
  it('offers Fresh, never Start, in every state run refuses', () => {
    for (const status of REFUSED) {
      assert.ok(!RUN_REUSES.includes(status), status);
      const ids = actionsFor(container(status)).map((a) => a.id);
      assert.ok(!ids.includes('start'), `quick pick offers start on ${status}`);
      assert.ok(ids.includes('fresh'), `quick pick lacks fresh on ${status}`);
      for (const inline of [true, false]) {
        const commands = treeCommands(status, inline);
        assert.ok(!commands.includes('containai.start'), `tree offers start on ${status} (inline: ${inline})`);
        assert.ok(commands.includes('containai.fresh'), `tree lacks fresh on ${status} (inline: ${inline})`);
      }
    }
  });

  it('a dead container gets Fresh, Status and the destructive actions, not Stop', () => {
    const ids = actionsFor(container('dead')).map((a) => a.id);
    assert.deepEqual(ids, ['status', 'fresh', 'keep', 'stopAndRemove', 'reset', 'doctor', 'showServerLog']);
    assert.deepEqual(treeCommands('dead', true).sort(), ['containai.fresh', 'containai.status']);
  });

  it('still offers Start where run starts the container as it is', () => {
    for (const status of ['stopped', 'created'] as Status[]) {
      assert.ok(RUN_REUSES.includes(status), status);
      assert.ok(actionsFor(container(status)).some((a) => a.id === 'start'), status);
      assert.ok(treeCommands(status, true).includes('containai.start'), status);
      assert.ok(treeCommands(status, false).includes('containai.start'), status);
    }
    assert.ok(!actionsFor(container('running')).some((a) => a.id === 'start'));
  });
});
