/** What the command tests share: a recording API, the commands' `Deps`, and running a command of the table. */
import { COMMANDS } from '../../src/commands/table';
import type { Deps } from '../../src/commands/deps';
import { ContainerStore } from '../../src/model/store';
import type { ActionId } from '../../src/model/format';
import type { ContainaiApi } from '../../src/rpc';
import type { ProgressValue } from '../../src/connection';

export const WS = '/home/me/src/myapp';

export type Call = { method: string; params: Record<string, unknown>; token: unknown };

/** A ContainaiApi stand-in: records each request, answers from `results`. */
export function fakeApi(results: Record<string, (p: Record<string, unknown>) => unknown>): { api: ContainaiApi; calls: Call[] } {
  const calls: Call[] = [];
  const handler = (method: string) => async (params: Record<string, unknown>, token?: unknown) => {
    calls.push({ method, params, token });
    const r = results[method];
    if (!r) throw new Error(`unexpected ${method}`);
    return r(params);
  };
  const api = { run: handler('run'), stop: handler('stop'), status: handler('status'), list: handler('list'), gc: handler('gc'), keep: handler('keep'), doctor: handler('doctor'), exportVolume: handler('export') };
  return { api: api as unknown as ContainaiApi, calls };
}

export function makeDeps(api: ContainaiApi, store = new ContainerStore(WS)): { deps: Deps; actions: ActionId[]; progress: string[] } {
  const actions: ActionId[] = [];
  const progress: string[] = [];
  store.setServerState('running');
  const deps: Deps = {
    store,
    output: { appendLine: () => undefined, show: () => undefined },
    api: () => api,
    relist: async () => undefined,
    restartServer: async () => undefined,
    onProgress: (token: string, _h: (v: ProgressValue) => void) => {
      progress.push(token);
      return { dispose: () => undefined };
    },
    dockerContext: () => undefined,
    runAction: async (id) => {
      actions.push(id);
    },
  };
  return { deps, actions, progress };
}

export function runCommand(id: string, deps: Deps, arg?: unknown): Promise<unknown> {
  const spec = COMMANDS.find((c) => c.id === id)!;
  return Promise.resolve(spec.run({ deps, statusView: { show: () => undefined }, debugState: () => ({}) }, arg));
}
