import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { EventSourceMappingConfig, Invoke } from '../model';
import type { EsmEvent, EsmEventListener } from './EsmEvent';
import { defaultEsmTuning, type EsmTuning } from './EsmTuning';
import { type EsmStats, emptyStats, type MappingContext } from './MappingContext';
import { OnFailureDelivery } from './onFailureDestination';
import { errorMessage } from './processBatch';
import { compileRecordFilter } from './recordFilter';
import { ShardReader, type StartingIterator } from './ShardReader';
import { Signal } from './Signal';
import { validateMappingConfig } from './validateMappingConfig';

export interface EventSourceMappingDeps {
  /** SDK v3 client with `NodeHttpHandler` and an explicit endpoint. */
  readonly kinesis: KinesisClient;
  readonly invoke: Invoke;
  /** Needed when the on-failure destination is a queue. */
  readonly sqs?: SQSClient;
  /** Needed when the on-failure destination is a bucket. */
  readonly s3?: S3Client;
  readonly region: string;
  readonly accountId: string;
  /**
   * The function's execution-role ARN: every record's `invokeIdentityArn`
   * (docs/event-source-mapping.md#event-record).
   */
  readonly roleArn: string;
  /** Overrides of the emulator's timing knobs (tests scale them down). */
  readonly tuning?: Partial<EsmTuning>;
  /** Observability listener; must not throw (errors it throws are ignored). */
  readonly onEvent?: EsmEventListener;
}

export interface RunningMapping {
  readonly uuid: string;
  /**
   * Resolves once the first shard scan ran and every shard then readable has its iterator: records
   * put afterwards reach a `LATEST` mapping. Resolves at once for a disabled mapping.
   */
  readonly ready: Promise<void>;
  /** Stops polling and waits for in-flight batches; unprocessed records stay unprocessed. */
  stop(): Promise<void>;
  /** A snapshot of the counters. */
  stats(): EsmStats;
  /**
   * Reads every shard now instead of at the end of its idle wait, e.g. when the function's alias
   * moved, so records waiting reach the new code without a poll interval's delay. Timing only:
   * what is read, its order and the batches stay as they would be.
   */
  pollNow(): void;
}

/**
 * Starts polling a Kinesis stream for one event source mapping and invoking its function, with
 * the semantics of AWS Lambda's Kinesis ESM (docs/event-source-mapping.md; internals in
 * docs/emulator.md).
 * Throws at once, naming the field, when the configuration is invalid.
 */
export function startEventSourceMapping(
  config: EventSourceMappingConfig,
  deps: EventSourceMappingDeps,
): RunningMapping {
  validateMappingConfig(config);
  const tuning: EsmTuning = { ...defaultEsmTuning, ...deps.tuning };
  const stats = emptyStats();
  const filter = compileRecordFilter(config.filters);
  const target = parseFunctionName(config.functionName, config.functionQualifier);
  let stopped = false;
  const stopSignal = new Signal();
  const listener = deps.onEvent;

  const ctx: MappingContext = {
    config,
    kinesis: deps.kinesis,
    invoke: deps.invoke,
    tuning,
    source: {
      invokeIdentityArn: deps.roleArn,
      awsRegion: deps.region,
      streamArn: config.streamArn,
    },
    streamName: streamNameOf(config.streamArn),
    functionName: target.name,
    qualifier: target.qualifier,
    functionArn: `arn:aws:lambda:${deps.region}:${deps.accountId}:function:${target.name}${
      target.qualifier ? `:${target.qualifier}` : ''
    }`,
    filter,
    destination: config.onFailure
      ? new OnFailureDelivery(
          config.onFailure,
          { sqs: deps.sqs, s3: deps.s3 },
          config.uuid,
          tuning.s3PayloadFormat,
        )
      : undefined,
    stats,
    emit(event: EsmEvent) {
      if (!listener) return;
      try {
        listener(event);
      } catch {
        // A broken listener must not stall a shard.
      }
    },
    isStopped: () => stopped,
    async sleep(ms: number) {
      if (!stopped) await stopSignal.wait(ms);
    },
  };

  const readers = new Map<string, ShardReader>();
  const running: Promise<void>[] = [];
  const finished = new Set<string>();
  /** Every shard seen, with its parents and the position it starts from. */
  const known = new Map<string, string[]>();
  const startPositions = new Map<string, StartingIterator>();
  const rescan = new Signal();
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  function startShard(shardId: string, parents: string[], start: StartingIterator): Promise<void> {
    const reader = new ShardReader(ctx, shardId, start);
    readers.set(shardId, reader);
    stats.shards[shardId] = 'reading';
    ctx.emit({ type: 'shardStarted', shardId, parentShardIds: parents, iteratorType: start.type });
    const run = reader.run().then((complete) => {
      readers.delete(shardId);
      if (!complete) return;
      finished.add(shardId);
      stats.shards[shardId] = 'finished';
      ctx.emit({ type: 'shardFinished', shardId });
      rescan.notify();
    });
    running.push(run);
    return reader.ready;
  }

  /**
   * Lists the shards and starts those whose parents are fully processed: a child is read only
   * after its parents (docs/event-source-mapping.md#resharding). Shards found after the first scan are children of a reshard and
   * start at TRIM_HORIZON; the first scan uses the mapping's starting position.
   */
  async function scan(first: boolean): Promise<Promise<void>[]> {
    const shards = await listShards(ctx);
    const present = new Set(shards.map((s) => s.ShardId));
    const started: Promise<void>[] = [];
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || known.has(shardId)) continue;
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter(
        (id): id is string => id !== undefined,
      );
      known.set(shardId, parents);
      stats.shards[shardId] = 'waiting-for-parents';
      startPositions.set(shardId, first ? startingIterator(config) : { type: 'TRIM_HORIZON' });
    }
    for (const [shardId, parents] of known) {
      if (readers.has(shardId) || finished.has(shardId)) continue;
      // A parent past retention is no longer listed: nothing of it is left to read.
      const blocked = parents.some((p) => present.has(p) && !finished.has(p));
      if (blocked) continue;
      started.push(
        startShard(shardId, parents, startPositions.get(shardId) ?? { type: 'TRIM_HORIZON' }),
      );
    }
    return started;
  }
  async function discoveryLoop(): Promise<void> {
    let first = true;
    let failures = 0;
    while (!stopped) {
      try {
        const started = await scan(first);
        if (first) {
          first = false;
          void Promise.all(started).then(() => markReady());
        }
        failures = 0;
        // stop() also notifies `rescan`.
        if (!stopped) await rescan.wait(tuning.shardDiscoveryIntervalMs);
      } catch (error) {
        ctx.emit({ type: 'error', stage: 'listShards', message: errorMessage(error) });
        failures += 1;
        await ctx.sleep(
          Math.min(tuning.retryBackoff.maxMs, tuning.retryBackoff.initialMs * failures),
        );
      }
    }
    markReady();
  }

  // A disabled mapping does not poll at all (docs/event-source-mapping.md#mapping-parameters).
  const discovery = config.enabled ? discoveryLoop() : Promise.resolve(markReady());

  return {
    uuid: config.uuid,
    ready,
    async stop() {
      if (stopped) return;
      stopped = true;
      stopSignal.notify();
      rescan.notify();
      for (const reader of readers.values()) reader.interrupt();
      await discovery;
      await Promise.all(running);
    },
    stats() {
      return structuredClone(stats);
    },
    pollNow() {
      for (const reader of readers.values()) reader.pollNow();
    },
  };
}

async function listShards(ctx: MappingContext): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const out = await ctx.kinesis.send(
      new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: ctx.streamName }),
    );
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}

function startingIterator(config: EventSourceMappingConfig): StartingIterator {
  if (config.startingPosition === 'AT_TIMESTAMP') {
    return { type: 'AT_TIMESTAMP', timestampSeconds: config.startingPositionTimestamp ?? 0 };
  }
  return { type: config.startingPosition };
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` → `<name>`. */
export function streamNameOf(streamArn: string): string {
  const match = /:stream\/([^/]+)/.exec(streamArn);
  if (!match?.[1]) throw new Error(`streamArn must be a Kinesis stream ARN (given ${streamArn})`);
  return match[1];
}

/** Accepts `name`, `name:qualifier` or a function ARN; an explicit qualifier wins. */
export function parseFunctionName(
  functionName: string,
  explicitQualifier: string | undefined,
): { name: string; qualifier: string | undefined } {
  const parts = functionName.startsWith('arn:')
    ? functionName.split(':').slice(6)
    : functionName.split(':');
  const [name, qualifier] = parts;
  if (!name) throw new Error(`functionName must name a function (given ${functionName})`);
  return { name, qualifier: explicitQualifier ?? qualifier };
}
