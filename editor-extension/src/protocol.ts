/**
 * The containai-rpc wire protocol as the extension sees it: the ONE module every other file
 * imports method names and payload types from.
 *
 * The types and the `Methods`/`Notifications` constants come from `protocol.generated.ts`,
 * which `python tools/generate_protocol.py` writes from protocol.schema.json (itself
 * generated from the pydantic models in containai_rpc/protocol/, the source of truth), as do
 * `MethodName`, `ParamsOf<M>`, `ResultOf<M>` and `Reason` (every `data.reason` the server
 * sends). This file only adds what is client-side: error codes, the reasons the extension
 * makes up itself, and a few aliases.
 *
 * No `vscode` import here.
 */
import type {
  ContainerChanged,
  ContainerSummary,
  EngineStatus,
  InitOptions,
  Reason,
  RunParams,
} from './protocol.generated';

export * from './protocol.generated';

// ---- errors ------------------------------------------------------------------------------

/** `error.code` of domain failures (LSP RequestFailed). */
export const REQUEST_FAILED = -32803;
export const INVALID_PARAMS = -32602;
export const METHOD_NOT_FOUND = -32601;
export const REQUEST_CANCELLED = -32800;

/**
 * Reasons only the extension produces: `declined` (the user said no to a question) and
 * `serverNotRunning` (a request while the server process is down).
 */
export type ClientReason = 'declined' | 'serverNotRunning';

/** Every `data.reason` the extension handles: the server's `Reason`s and its own. */
export type ErrorReason = Reason | ClientReason;

// ---- aliases -----------------------------------------------------------------------------

export type ContainerStatus = Exclude<ContainerSummary['status'], 'removed'>;
export type ContainerChangedParams = ContainerChanged;
export type EngineStatusParams = EngineStatus;
export type EngineHealth = EngineStatus['health'];
export type WorkDoneToken = NonNullable<RunParams['workDoneToken']>;

/** `initializationOptions` of the LSP `initialize` request. */
export interface ContainaiInitializationOptions {
  containai: InitOptions;
}
