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

const FRESH = 'Use Fresh to recreate';

/**
 * The server's hint in editor words (commands and buttons, not protocol params), for the
 * reasons whose hint names a param or method; others keep the server's hint.
 */
const HINTS: Record<string, (hint: string | undefined) => string | undefined> = {
  volumeMismatch: () => `${FRESH} the container on the requested volume (the current volume is kept).`,
  unexpectedState: () => `${FRESH} it.`,
  hostKeyChanged: (hint) => hint?.replace('recreate it with a fresh run', 'use Fresh'),
  isolationUnavailable: () => 'Install Sysbox (Run ContainAI: Doctor for details), or allow reduced isolation ([isolation] allow_reduced = true).',
  engineUnavailable: (hint) => hint?.replace(/,? then run doctor\.$/, ', then run ContainAI: Doctor.'),
  multipleContainers: () => 'Pick the container in the ContainAI view.',
  ambiguousContainer: () => 'Remove or rename the duplicate container.',
  portsExhausted: () => 'Remove unused containers (Stop and Remove, Garbage Collect…) or widen [ssh] port_range_start/port_range_end.',
};

export function editorHint(reason: string | undefined, hint: string | undefined): string | undefined {
  const phrase = reason === undefined ? undefined : HINTS[reason];
  return phrase ? phrase(hint) ?? hint : hint;
}

export function describeError(err: unknown, what: string): UserError {
  const e = (err ?? {}) as RpcErrorLike;
  const reason = reasonOf(err);
  const serverHint = typeof (e.data as Partial<ErrorData> | undefined)?.hint === 'string' ? (e.data as ErrorData).hint : undefined;
  const hint = editorHint(reason, serverHint);
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
    case 'volumeMismatch':
    case 'unexpectedState':
    case 'hostKeyChanged':
      actions.push('fresh');
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
