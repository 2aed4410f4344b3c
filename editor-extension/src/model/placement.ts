/**
 * Where Run puts a workspace's first container when several Docker contexts could hold it:
 * whether to ask, and what to offer, in which order. Pure: the facts come from the store
 * (the server's `containai/engineStatus`, one per managed context, and `containai/list`)
 * and from a `run` dry run (the context a Run without `context` would use).
 *
 * No `vscode` import: tested directly.
 */
import type { ContainerSummary, EngineStatusParams } from '../protocol';

export interface PlacementFacts {
  /** "Run on Context…": ask even when Run would not. */
  always: boolean;
  /** The `containai.dockerContext` setting. */
  setting?: string;
  /** The workspace's container, on any context, if one exists. */
  existing?: Pick<ContainerSummary, 'name' | 'context'>;
  /** The last engine report of every managed context. */
  engines: readonly EngineStatusParams[];
}

/** The contexts whose engine answers (`warning`: it answers, only its events are refused). */
export function reachableContexts(engines: readonly EngineStatusParams[]): EngineStatusParams[] {
  return engines.filter((e) => e.health !== 'error');
}

/**
 * Run asks only for a first container, with no context set, when two or more contexts
 * answer; "Run on Context…" always asks.
 */
export function shouldAsk(f: PlacementFacts): boolean {
  return f.always || (f.setting === undefined && f.existing === undefined && reachableContexts(f.engines).length >= 2);
}

export interface ContextChoice {
  context: string;
  label: string;
  description: string;
  /** The engine's endpoint, e.g. `unix:///var/run/docker.sock` or `ssh://me@box`. */
  detail?: string;
}

function plural(n: number, what: string): string {
  return `${n === 0 ? 'no' : n} ${what}${n === 1 ? '' : 's'}`;
}

/**
 * The reachable contexts: `selected` (where Run goes without asking) first, then by name;
 * each says how many ContainAI containers it holds and where its engine is.
 */
export function contextChoices(engines: readonly EngineStatusParams[], containers: readonly ContainerSummary[], selected?: string, existing?: PlacementFacts['existing']): ContextChoice[] {
  const reachable = reachableContexts(engines).sort((a, b) => Number(b.context === selected) - Number(a.context === selected) || a.context.localeCompare(b.context));
  return reachable.map((e) => {
    const bits = [plural(containers.filter((c) => c.context === e.context).length, 'ContainAI container')];
    if (e.context === selected) bits.unshift('selected');
    if (existing?.context === e.context) bits.push(`holds ${existing.name}`);
    return { context: e.context, label: e.context, description: bits.join(' · '), detail: e.endpoint };
  });
}
