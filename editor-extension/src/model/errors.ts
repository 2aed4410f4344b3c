/**
 * Turning JSON-RPC errors into what the user sees: the server's message, plus an action
 * where one helps. No `vscode` import.
 */
import { INVALID_PARAMS, REQUEST_CANCELLED, REQUEST_FAILED, type ErrorData, type ErrorReason } from '../protocol';
import type { ActionId } from './format';

export interface RpcErrorLike {
  code?: number;
  message?: string;
  data?: unknown;
}

export interface UserError {
  message: string;
  reason?: ErrorReason;
  /** Buttons offered on the error notification. */
  actions: ActionId[];
  /** true for "the user said no": show nothing loud. */
  quiet: boolean;
}

/** `data.reason` of an error, as the server (or the extension itself) sent it. */
export function reasonOf(err: unknown): ErrorReason | undefined {
  const data = (err as RpcErrorLike | undefined)?.data as Partial<ErrorData> | undefined;
  return typeof data?.reason === 'string' ? data.reason : undefined;
}

export function describeError(err: unknown, what: string): UserError {
  const e = (err ?? {}) as RpcErrorLike;
  const reason = reasonOf(err);
  const hint = typeof (e.data as Partial<ErrorData> | undefined)?.hint === 'string' ? (e.data as ErrorData).hint : undefined;
  const base = typeof e.message === 'string' && e.message.length > 0 ? e.message : String(err);
  const message = hint && !base.includes(hint) ? `${base} ${hint}` : base;
  if (e.code === REQUEST_CANCELLED) return { message: `${what} cancelled.`, reason: 'cancelled', actions: [], quiet: true };
  if (reason === 'declined') return { message: `${what}: not confirmed.`, reason, actions: [], quiet: true };
  const actions: ActionId[] = [];
  switch (reason) {
    case 'engineUnavailable':
    case 'isolationUnavailable':
      actions.push('doctor', 'showServerLog');
      break;
    case 'containerNotFound':
      actions.push('run');
      break;
    case 'busy':
      break;
    case 'confirmationRequired':
      break;
    default:
      if (e.code !== REQUEST_FAILED && e.code !== INVALID_PARAMS) actions.push('showServerLog');
  }
  return { message: `${what} failed: ${message}`, reason, actions, quiet: false };
}
