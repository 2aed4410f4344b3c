/**
 * Typed calls of the containai/* requests over anything that can send a JSON-RPC request:
 * vscode-languageclient's LanguageClient in the extension, a vscode-jsonrpc
 * MessageConnection in the tests. Method names and payload types come from ./protocol.
 * No `vscode` import.
 */
import { Methods, type MethodName, type ParamsOf, type ResultOf } from './protocol';

/** Structural: matches both LanguageClient.sendRequest and MessageConnection.sendRequest. */
export interface RpcSender {
  sendRequest<R>(method: string, params: unknown, token?: unknown): Promise<R>;
}

/** Drops undefined/null fields: the protocol wants optional fields omitted, never null. */
export function compact<T extends object>(params: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) out[k] = v;
  return out as T;
}

export class ContainaiApi {
  constructor(private readonly sender: RpcSender) {}

  /** Any request of the generated catalogue, typed by its method name. */
  request<M extends MethodName>(method: M, params: ParamsOf<M>, token?: unknown): Promise<ResultOf<M>> {
    const p = compact(params as object);
    return token === undefined ? this.sender.sendRequest<ResultOf<M>>(method, p) : this.sender.sendRequest<ResultOf<M>>(method, p, token);
  }

  run(params: ParamsOf<typeof Methods.run>, token?: unknown): Promise<ResultOf<typeof Methods.run>> {
    return this.request(Methods.run, params, token);
  }
  stop(params: ParamsOf<typeof Methods.stop>, token?: unknown): Promise<ResultOf<typeof Methods.stop>> {
    return this.request(Methods.stop, params, token);
  }
  status(params: ParamsOf<typeof Methods.status>, token?: unknown): Promise<ResultOf<typeof Methods.status>> {
    return this.request(Methods.status, params, token);
  }
  list(params: ParamsOf<typeof Methods.list> = {}, token?: unknown): Promise<ResultOf<typeof Methods.list>> {
    return this.request(Methods.list, params, token);
  }
  gc(params: ParamsOf<typeof Methods.gc>, token?: unknown): Promise<ResultOf<typeof Methods.gc>> {
    return this.request(Methods.gc, params, token);
  }
  keep(params: ParamsOf<typeof Methods.keep>, token?: unknown): Promise<ResultOf<typeof Methods.keep>> {
    return this.request(Methods.keep, params, token);
  }
  doctor(params: ParamsOf<typeof Methods.doctor> = {}, token?: unknown): Promise<ResultOf<typeof Methods.doctor>> {
    return this.request(Methods.doctor, params, token);
  }
  exportVolume(params: ParamsOf<typeof Methods.export>, token?: unknown): Promise<ResultOf<typeof Methods.export>> {
    return this.request(Methods.export, params, token);
  }
}
