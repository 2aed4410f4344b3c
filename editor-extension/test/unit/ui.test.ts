/** tree.ts and statusBar.ts against a small stand-in for `vscode`. */
import '../support/register-vscode';
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as vscodeStub from '../support/vscode-stub';
import { ContainerTreeProvider, type TreeNode } from '../../src/tree';
import { ContainerStatusBar } from '../../src/statusBar';
import { ContainerStore } from '../../src/model/store';
import type { ContainerSummary } from '../../src/protocol';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const WS = '/home/me/src/myapp';
const now = (): number => NOW;

function summary(over: Partial<ContainerSummary> = {}): ContainerSummary {
  return {
    id: 'abc',
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
    startedAt: '2026-11-27T11:30:00Z',
    ...over,
  };
}

function setup(): { store: ContainerStore; tree: ContainerTreeProvider; bar: ContainerStatusBar; item: vscodeStub.FakeStatusBarItem; changes: () => number } {
  const store = new ContainerStore(WS);
  const tree = new ContainerTreeProvider(store, now, '/home/me');
  let n = 0;
  tree.onDidChangeTreeData(() => n++);
  const bar = new ContainerStatusBar(store, now);
  const item = vscodeStub.createdStatusBarItems.at(-1)!;
  return { store, tree, bar, item, changes: () => n };
}

describe('tree', () => {
  it('shows a connecting row until the first list, then rows, current first', () => {
    const { store, tree, bar } = setup();
    let nodes = tree.getChildren();
    assert.equal(nodes.length, 1);
    assert.equal(nodes[0]?.kind, 'message');
    store.setServerState('running');
    store.applyList({
      revision: 1,
      containers: [summary({ id: 'o', name: 'other-dev', workspace: '/w/other', status: 'running' }), summary({ status: 'stopped', finishedAt: '2026-11-25T12:00:00Z' })],
    });
    nodes = tree.getChildren();
    assert.deepEqual(
      nodes.map((n) => (n.kind === 'container' ? n.container.name : n.kind === 'message' ? n.text : n.context)),
      ['myapp-main', 'other-dev'],
    );
    assert.equal(tree.viewMessage(), undefined);
    const item = tree.getTreeItem(nodes[0] as TreeNode) as unknown as vscodeStub.TreeItem;
    assert.equal(item.label, 'myapp-main');
    assert.equal(item.description, 'Stopped 2 d · this workspace');
    assert.equal(item.contextValue, 'containaiContainer.stopped.unkept.ssh.current');
    assert.equal(item.iconPath?.id, 'vm-outline');
    assert.match((item.tooltip as vscodeStub.MarkdownString).value, /Image: containai:latest/);
    const other = tree.getTreeItem(nodes[1] as TreeNode) as unknown as vscodeStub.TreeItem;
    assert.equal(other.description, 'Up 30 min · /w/other');
    assert.equal(other.iconPath?.id, 'vm-running');
    assert.equal(other.iconPath?.color?.id, 'charts.green');
    bar.dispose();
    tree.dispose();
  });

  it('is empty (welcome view) when there are no containers, and updates on notifications', () => {
    const { store, tree, bar, changes } = setup();
    store.setServerState('running');
    store.applyList({ revision: 1, containers: [] });
    assert.deepEqual(tree.getChildren(), []);
    const before = changes();
    store.applyChange({ revision: 2, kind: 'created', container: summary() });
    assert.ok(changes() > before, 'the tree fired onDidChangeTreeData');
    assert.equal(tree.getChildren().length, 1);
    store.applyChange({ revision: 3, kind: 'removed', container: summary({ status: 'removed' }) });
    assert.deepEqual(tree.getChildren(), []);
    bar.dispose();
    tree.dispose();
  });

  it('offers "Run a container for this workspace" first when only other workspaces have containers', () => {
    const { store, tree, bar } = setup();
    store.setServerState('running');
    store.setWorkspaceContainerName('myapp-main');
    store.applyList({ revision: 1, containers: [summary({ id: 'o', name: 'other-dev', workspace: '/w/other' })] });
    const nodes = tree.getChildren();
    assert.equal(nodes.length, 2);
    const first = tree.getTreeItem(nodes[0]!) as unknown as vscodeStub.TreeItem;
    assert.equal(first.label, 'Run a container for this workspace');
    assert.equal(first.description, 'myapp-main');
    assert.equal(first.command?.command, 'containai.run');
    assert.equal(first.iconPath?.id, 'play');
    store.applyChange({ revision: 2, kind: 'created', container: summary() });
    assert.deepEqual(tree.getChildren().map((n) => n.kind), ['container', 'container']);
    bar.dispose();
    tree.dispose();
  });

  it('says clearly that the engine is unreachable instead of an empty list', () => {
    const { store, tree, bar } = setup();
    store.setServerState('running');
    store.applyList({ revision: 1, containers: [summary()] });
    store.applyEngineStatus({ health: 'error', message: 'Cannot connect to the Docker daemon at unix:///dead.sock', context: 'default', endpoint: 'unix:///dead.sock' });
    const nodes = tree.getChildren();
    assert.equal(nodes.length, 1);
    const n = nodes[0]!;
    assert.equal(n.kind, 'message');
    const item = tree.getTreeItem(n) as unknown as vscodeStub.TreeItem;
    assert.equal(item.label, 'Docker engine unreachable');
    // the endpoint is said once, even when the server's message already names it
    assert.equal(String(item.tooltip), 'Docker engine unreachable: Cannot connect to the Docker daemon at unix:///dead.sock. Run "ContainAI: Doctor" for details.');
    assert.match(tree.viewMessage() ?? '', /unreachable: Cannot connect to the Docker daemon at unix:\/\/\/dead\.sock/);
    assert.equal(item.iconPath?.id, 'error');
    assert.equal(item.command?.command, 'containai.doctor');
    bar.dispose();
    tree.dispose();
  });
});

describe('status bar', () => {
  it('follows the store: starting → absent → starting… → running → stopped', () => {
    const { store, bar, item } = setup();
    assert.equal(item.visible, true);
    assert.equal(item.command, 'containai.statusBarActions');
    assert.equal(item.text, '$(sync~spin) ContainAI');
    store.setServerState('running');
    store.applyList({ revision: 1, containers: [] });
    assert.equal(item.text, '$(vm-outline) no container');
    store.setPending({ label: 'starting…' });
    assert.equal(item.text, '$(sync~spin) starting…');
    store.setPending(undefined);
    store.applyChange({ revision: 2, kind: 'started', container: summary() });
    assert.equal(item.text, '$(vm-running) myapp-main');
    assert.equal(item.backgroundColor, undefined);
    store.applyChange({ revision: 3, kind: 'stopped', container: summary({ status: 'stopped', finishedAt: '2026-11-27T11:59:00Z' }) });
    assert.equal(item.text, '$(vm-outline) myapp-main: stopped');
    assert.match(item.tooltip ?? '', /Stopped 1 min/);
    bar.dispose();
    assert.equal(item.disposed, true);
  });

  it('uses the error colour when the engine is unreachable', () => {
    const { store, bar, item } = setup();
    store.setServerState('running');
    store.applyList({ revision: 1, containers: [summary()] });
    store.applyEngineStatus({ health: 'error', message: 'down', context: 'default' });
    assert.equal(item.text, '$(error) Docker unreachable');
    assert.equal(item.backgroundColor?.id, 'statusBarItem.errorBackground');
    store.applyEngineStatus({ health: 'warning', message: 'slow', context: 'default' });
    assert.equal(item.text, '$(vm-running) myapp-main');
    assert.equal(item.backgroundColor?.id, 'statusBarItem.warningBackground');
    bar.dispose();
  });
});
