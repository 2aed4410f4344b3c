/**
 * Typed calls of the containai/* requests over anything that can send a JSON-RPC request:
 * vscode-languageclient's LanguageClient in the extension, a vscode-jsonrpc
 * MessageConnection in the tests. No `vscode` import.
 */
import {
  Methods,
  type ConfigGetParams,
  type ConfigGetResult,
  type DoctorResult,
  type GcParams,
  type GcResult,
  type KeepParams,
  type KeepResult,
  type ListParams,
  type ListResult,
  type RunParams,
  type RunResult,
  type StatusParams,
  type StatusResult,
  type StopParams,
  type StopResult,
} from './protocol';

/** Structural: matches both LanguageClient.sendRequest and MessageConnection.sendRequest. */
export interface RpcSender {
  sendRequest<R>(method: string, params: unknown, token?: unknown): Promise<R>;
}

/** Drops undefined fields: the protocol wants optional fields omitted, never null. */
export function compact<T extends object>(params: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

export class ContainaiApi {
  constructor(private readonly sender: RpcSender) {}

  private call<R>(method: string, params: object, token?: unknown): Promise<R> {
    return token === undefined
      ? this.sender.sendRequest<R>(method, compact(params))
      : this.sender.sendRequest<R>(method, compact(params), token);
  }

  run(params: RunParams, token?: unknown): Promise<RunResult> {
    return this.call(Methods.run, params, token);
  }
  stop(params: StopParams, token?: unknown): Promise<StopResult> {
    return this.call(Methods.stop, params, token);
  }
  status(params: StatusParams, token?: unknown): Promise<StatusResult> {
    return this.call(Methods.status, params, token);
  }
  list(params: ListParams = {}, token?: unknown): Promise<ListResult> {
    return this.call(Methods.list, params, token);
  }
  gc(params: GcParams, token?: unknown): Promise<GcResult> {
    return this.call(Methods.gc, params, token);
  }
  keep(params: KeepParams, token?: unknown): Promise<KeepResult> {
    return this.call(Methods.keep, params, token);
  }
  doctor(token?: unknown): Promise<DoctorResult> {
    return this.call(Methods.doctor, {}, token);
  }
  configGet(params: ConfigGetParams, token?: unknown): Promise<ConfigGetResult> {
    return this.call(Methods.configGet, params, token);
  }
}
