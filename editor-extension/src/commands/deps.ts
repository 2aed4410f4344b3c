/**
 * What every command module gets, explicitly: the store, the API, the output, progress,
 * and a way to run another action by id. The extension passes the connection's; the unit
 * tests pass fakes.
 */
import type { ContainaiApi } from '../rpc';
import type { ContainerStore } from '../model/store';
import type { ActionId } from '../model/format';
import type { ProgressValue } from '../connection';

export interface OutputLike {
  appendLine(line: string): void;
  show(preserveFocus?: boolean): void;
}

export interface Deps {
  store: ContainerStore;
  output: OutputLike;
  /** The API while the server runs; throws a `serverNotRunning` error otherwise. */
  api(): ContainaiApi;
  relist(): Promise<void>;
  restartServer(): Promise<void>;
  /** `$/progress` of a token passed with a request. */
  onProgress(token: string, handler: (v: ProgressValue) => void): { dispose(): void } | undefined;
  /** The `containai.dockerContext` setting, if any. */
  dockerContext(): string | undefined;
  /** Runs the command of an action (a notification's button, a quick-pick item). */
  runAction(id: ActionId): Thenable<unknown>;
}
