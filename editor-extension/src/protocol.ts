/**
 * The containai-rpc wire protocol as the extension sees it: the ONE module every other file
 * imports method names and payload types from.
 *
 * The types and the `Methods`/`Notifications` constants come from `protocol.generated.ts`,
 * which `python -m containai_rpc.protocol.generate` writes from protocol.schema.json (itself
 * generated from the pydantic models in containai_rpc/protocol/, the source of truth). This
 * file only adds what is client-side: error codes, a few aliases, and the methods the server
 * does not have yet.
 *
 * No `vscode` import here.
 */
import type {
  ContainaiProtocol,
  ContainerChanged,
  ContainerSummary,
  EngineStatus,
  ErrorData as GeneratedErrorData,
  InitOptions,
  RunParams,
} from './protocol.generated';

export * from './protocol.generated';

/** The methods typed by the generated catalogue: name → {params, result}. */
export type Requests = ContainaiProtocol['requests'];
export type RequestMethod = keyof Requests;
export type ParamsOf<M extends RequestMethod> = Requests[M]['params'];
export type ResultOf<M extends RequestMethod> = Requests[M]['result'];

/**
 * Methods the extension offers a command for but the server's registry does not list yet;
 * calling them against an older server fails with -32601 MethodNotFound, which the commands
 * report as "not supported by this server".
 */
export const PendingMethods = {
  doctor: 'containai/doctor',
} as const;

// ---- errors ------------------------------------------------------------------------------

/** `error.code` of domain failures (LSP RequestFailed). */
export const REQUEST_FAILED = -32803;
export const INVALID_PARAMS = -32602;
export const METHOD_NOT_FOUND = -32601;
export const REQUEST_CANCELLED = -32800;

export type ErrorReason =
  | 'containerNotFound'
  | 'notManaged'
  | 'engineUnavailable'
  | 'confirmationRequired'
  | 'invalidName'
  | 'busy'
  | 'isolationUnavailable'
  | 'nameConflict'
  | 'volumeMismatch'
  | (string & {});

export type ErrorData = GeneratedErrorData & { reason: ErrorReason };

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

// ---- doctor (not in the registry yet: loosely typed, rendered generically) ---------------

export interface DoctorCheck {
  name: string;
  ok?: boolean;
  status?: string;
  message?: string;
  [key: string]: unknown;
}

export interface DoctorResult {
  checks?: DoctorCheck[];
  [key: string]: unknown;
}
