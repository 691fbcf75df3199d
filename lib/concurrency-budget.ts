import { Token } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { ResolvedSourceProps } from './defaults';
import type { NewStreamProps } from './source-props';

/** How much account concurrency one source's functions can take at most. */
export interface SourceConcurrency {
  readonly source: string;
  /** The main function plus one per isolated job. */
  readonly functions: number;
  /** Shards read, or `undefined` when unknown (then counted as 1). */
  readonly shards: number | undefined;
  /** Concurrency of one function: reserved concurrency, else shards × parallelizationFactor. */
  readonly perFunction: number;
  readonly total: number;
}

/** The concurrency guardrail's view of a pipeline. */
export interface ConcurrencyUsage {
  readonly total: number;
  readonly sources: readonly SourceConcurrency[];
}

/**
 * Sums the most concurrency each source can use: at most shards × parallelizationFactor
 * invocations per mapping (docs/event-source-mapping.md#polling-and-limits), and reserved concurrency is taken from the
 * account whether used or not, so it replaces that product when set.
 */
export function concurrencyUsage(
  sources: Readonly<Record<string, ResolvedSourceProps>>,
): ConcurrencyUsage {
  const perSource = Object.entries(sources).map(([source, props]): SourceConcurrency => {
    const shards = shardCountOf(props);
    const functions = 1 + props.isolateJobs.length;
    const perFunction =
      props.reservedConcurrentExecutions ?? (shards ?? 1) * props.parallelizationFactor;
    return { source, functions, shards, perFunction, total: functions * perFunction };
  });
  return { total: perSource.reduce((sum, s) => sum + s.total, 0), sources: perSource };
}

/** Describes a usage line for messages: "productViews: 2 functions × 2 shards × parallelizationFactor 1 = 4". */
export function describeConcurrency(
  usage: SourceConcurrency,
  parallelizationFactor: number,
): string {
  const functions = `${usage.functions} function${usage.functions === 1 ? '' : 's'}`;
  const each =
    usage.perFunction === (usage.shards ?? 1) * parallelizationFactor
      ? `${usage.shards ?? '1 (unknown)'} shard${usage.shards === 1 ? '' : 's'} × parallelizationFactor ${parallelizationFactor}`
      : `reservedConcurrentExecutions ${usage.perFunction}`;
  return `${usage.source}: ${functions} × ${each} = ${usage.total}`;
}

/** Shard count of a source's stream, when it can be known at synth. */
export function shardCountOf(source: ResolvedSourceProps): number | undefined {
  if (isNewStream(source.stream)) return resolvedNumber(source.stream.shardCount);
  if (source.shardCount !== undefined) return resolvedNumber(source.shardCount);
  // A stream defined in this app carries its shard count on the L1 (absent in on-demand mode).
  if (source.stream instanceof kinesis.Stream) {
    const cfn = source.stream.node.defaultChild;
    if (cfn instanceof kinesis.CfnStream && typeof cfn.shardCount === 'number') {
      return resolvedNumber(cfn.shardCount);
    }
  }
  return undefined;
}

/** True for the `{ shardCount }` form of a source's `stream`. */
export function isNewStream(stream: kinesis.IStream | NewStreamProps): stream is NewStreamProps {
  return !('streamArn' in stream);
}

function resolvedNumber(value: number): number | undefined {
  return Token.isUnresolved(value) ? undefined : value;
}
