/**
 * The containai-rpc wire protocol, as seen by the extension: method names and payload types.
 *
 * ONE module on purpose: every other file imports names and types from here. The payload
 * types follow the pydantic models in `containai_rpc/protocol/` (the source of truth). When
 * `protocol.schema.json` exists at the repository root, `npm run gen:protocol` writes
 * `protocol.generated.ts` from it; this module then re-exports those types (see the bottom).
 *
 * No `vscode` import here (and none in anything this file imports).
 */

export const PROTOCOL_VERSION = '1.0';

/** Custom methods, namespace `containai/`. */
export const Methods = {
  run: 'containai/run',
  stop: 'containai/stop',
  fresh: 'containai/fresh',
  reset: 'containai/reset',
  status: 'containai/status',
  list: 'containai/list',
  gc: 'containai/gc',
  keep: 'containai/keep',
  doctor: 'containai/doctor',
  configGet: 'containai/configGet',
  sshCleanup: 'containai/sshCleanup',
} as const;

export const Notifications = {
  containerChanged: 'containai/containerChanged',
  engineStatus: 'containai/engineStatus',
} as const;

/** `error.code` of domain failures (LSP RequestFailed). */
export const REQUEST_FAILED = -32803;
export const INVALID_PARAMS = -32602;

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

export interface ErrorData {
  reason: ErrorReason;
  hint?: string;
  [key: string]: unknown;
}

// ---- initialize ----------------------------------------------------------------------

export interface ContainaiInitializationOptions {
  containai: { protocolVersion: string };
}

export interface ContainaiServerCapabilities {
  protocolVersion: string;
  serverVersion: string;
  features: string[];
}

// ---- shared shapes -------------------------------------------------------------------

export type ContainerStatus = 'running' | 'stopped' | 'created' | 'paused' | 'restarting' | 'dead';

export interface ContainerSummary {
  id: string;
  name: string;
  context: string;
  /** The guide's vocabulary; `removed` only in a `removed` notification. */
  status: ContainerStatus | 'removed';
  dockerState: string;
  image: string;
  workspace?: string;
  dataVolume?: string;
  sshPort?: number;
  keep: boolean;
  /** RFC 3339 UTC */
  createdAt?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface WorkDoneProgressParams {
  workDoneToken?: string | number;
}

// ---- containai/run -------------------------------------------------------------------

export interface RunParams extends WorkDoneProgressParams {
  workspace?: string;
  container?: string;
  dataVolume?: string;
  context?: string;
  dryRun?: boolean;
  fresh?: boolean;
  /** Alias of `fresh`. */
  restart?: boolean;
  reset?: boolean;
  keep?: boolean;
  image?: string;
  allowReducedIsolation?: boolean;
}

export type RunAction = 'create' | 'start' | 'attach' | 'recreate';

export type Isolation = 'sysbox' | 'runc-reduced';

export interface SshEndpoint {
  /** Host alias in ~/.ssh/containai.d (the container name). */
  host: string;
  hostname?: string;
  port: number;
  user: string;
  command: string;
}

export interface RunResult {
  action: RunAction;
  containerName: string;
  workspace: string;
  dataVolume: string;
  dataVolumeSource?: string;
  image: string;
  context: string;
  state: ContainerStatus | 'absent';
  isolation?: Isolation;
  dryRun?: boolean;
  container?: ContainerSummary;
  ssh?: SshEndpoint;
  warnings?: string[];
}

// ---- containai/stop ------------------------------------------------------------------

export interface StopParams extends WorkDoneProgressParams {
  workspace?: string;
  container?: string;
  all?: boolean;
  remove?: boolean;
  force?: boolean;
  context?: string;
}

export type StopAction = 'stopped' | 'removed' | 'alreadyStopped' | 'notFound' | 'declined' | 'failed';

export interface StopOutcome {
  containerName: string;
  context: string;
  action: StopAction;
  sessions?: 'yes' | 'no' | 'unknown';
  message?: string;
}

export interface StopResult {
  results: StopOutcome[];
}

// ---- containai/status ----------------------------------------------------------------

export interface StatusParams {
  workspace?: string;
  container?: string;
  context?: string;
}

export interface Sessions {
  sshConnections: number;
  activeTerminals: number;
}

export interface Resources {
  memoryBytes?: number;
  memoryLimitBytes?: number;
  memoryPercent?: number;
  cpuPercent?: number;
  /** Human form, e.g. `1.2GiB / 4GiB (30%)`. */
  memoryText?: string;
}

export interface StatusResult extends ContainerSummary {
  uptime?: string;
  sessions?: Sessions;
  sessionsKnown?: boolean;
  resources?: Resources;
  partial?: string[];
  isolation?: Isolation;
}

// ---- containai/list ------------------------------------------------------------------

export interface ListParams {
  context?: string;
}

export interface ListResult {
  revision: number;
  containers: ContainerSummary[];
  errors?: Array<{ context: string; message: string }>;
}

// ---- containai/gc, keep, doctor, configGet, sshCleanup ------------------------------

export interface GcParams extends WorkDoneProgressParams {
  dryRun?: boolean;
  age?: string;
  images?: boolean;
  force?: boolean;
}

export interface GcCandidate {
  name?: string;
  containerName?: string;
  id?: string;
  kind?: string;
  reason?: string;
  context?: string;
  [key: string]: unknown;
}

export interface GcResult {
  dryRun?: boolean;
  candidates?: GcCandidate[];
  removed?: Array<GcCandidate | string>;
  skipped?: Array<GcCandidate | string>;
  [key: string]: unknown;
}

export interface KeepParams {
  container?: string;
  workspace?: string;
  keep: boolean;
  context?: string;
}

export interface KeepResult {
  container?: ContainerSummary;
  [key: string]: unknown;
}

export type DoctorParams = Record<string, never>;

export interface DoctorCheck {
  name: string;
  ok?: boolean;
  status?: string;
  message?: string;
  detail?: string;
  [key: string]: unknown;
}

export interface DoctorResult {
  checks?: DoctorCheck[];
  [key: string]: unknown;
}

export interface ConfigGetParams {
  key: string;
  workspace?: string;
}

export interface ConfigGetResult {
  key: string;
  value?: string;
  source?: string;
}

export interface SshCleanupParams {
  dryRun?: boolean;
}

// ---- notifications -------------------------------------------------------------------

export type ContainerChangeKind = 'created' | 'started' | 'stopped' | 'removed' | 'recreated' | 'updated';

export interface ContainerChangedParams {
  revision: number;
  kind: ContainerChangeKind | (string & {});
  container: ContainerSummary;
}

export type EngineHealth = 'ok' | 'warning' | 'error';

export interface EngineStatusParams {
  health: EngineHealth;
  message: string;
  context: string;
  endpoint?: string;
}
