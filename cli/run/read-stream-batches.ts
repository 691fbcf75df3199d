import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisEvent } from 'driverless/runtime';
import { readStackState, STATE_FILE } from '../../emulator/index';
import { fail } from '../cli-error';
import { eventRecord } from './synthetic-events';

/** Where a backfill reads from, and how that was decided (for error messages). */
export interface KinesisTarget {
  readonly client: KinesisClient;
  readonly endpoint: string;
  readonly region: string;
}

/**
 * The Kinesis client of a backfill: `--endpoint`, else AWS_ENDPOINT_URL_KINESIS /
 * AWS_ENDPOINT_URL, else a running embedded stack's `.driverless/local.json`, else AWS's chain.
 */
export function kinesisTarget(endpoint: string | undefined): KinesisTarget {
  const common = {
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3000 }),
    maxAttempts: 2,
  };
  const explicit = endpoint ?? process.env.AWS_ENDPOINT_URL_KINESIS ?? process.env.AWS_ENDPOINT_URL;
  if (explicit) {
    if (!/^https?:\/\/[^\s]+$/.test(explicit))
      fail(`--endpoint must be an http(s) URL (given ${explicit})`);
    const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
    const local = /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(explicit);
    const credentials =
      local && !process.env.AWS_ACCESS_KEY_ID
        ? { accessKeyId: 'test', secretAccessKey: 'test' }
        : undefined;
    return {
      client: new KinesisClient({
        ...common,
        endpoint: explicit,
        region,
        ...(credentials ? { credentials } : {}),
      }),
      endpoint: explicit,
      region,
    };
  }
  const read = readStackState(STATE_FILE);
  if (read.kind === 'unreadable' && read.reason === 'not JSON') {
    fail(`${STATE_FILE} is not JSON: restart the embedded stack (npm start) or pass --endpoint`);
  }
  if (read.kind === 'stale') fail(`${read.reason}, or pass --endpoint`);
  if (read.kind === 'running') {
    const { state } = read;
    const kinesis = state.endpoints?.kinesis;
    if (!kinesis)
      fail(
        `${STATE_FILE} names no kinesis endpoint: restart the embedded stack (npm start) or pass --endpoint`,
      );
    const region = state.region ?? 'us-east-1';
    return {
      client: new KinesisClient({
        ...common,
        endpoint: kinesis,
        region,
        credentials: state.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
      }),
      endpoint: kinesis,
      region,
    };
  }
  const client = new KinesisClient(common);
  return { client, endpoint: 'AWS', region: process.env.AWS_REGION ?? 'us-east-1' };
}

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'TimeoutError',
]);

async function listShards(
  target: KinesisTarget,
  streamName: string,
): Promise<{ shards: Shard[]; arn: string }> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await target.client.send(
        new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    const { name, code } = error as { name?: string; code?: string };
    if (name === 'ResourceNotFoundException')
      fail(`stream ${streamName} does not exist at ${target.endpoint}`);
    if (
      UNREACHABLE.has(code ?? '') ||
      UNREACHABLE.has(name ?? '') ||
      /ECONNREFUSED|ENOTFOUND/.test(String(error))
    ) {
      fail(
        `cannot reach Kinesis at ${target.endpoint} (${code ?? name}): start the stack or pass --endpoint <url>`,
      );
    }
    fail(
      `cannot list the shards of ${streamName} at ${target.endpoint}: ${name ?? 'Error'}: ${(error as Error).message}`,
    );
  }
  const region = target.region;
  return { shards, arn: `arn:aws:kinesis:${region}:000000000000:stream/${streamName}` };
}

/**
 * Shards in an order where every parent comes before its children
 * (docs/event-source-mapping.md#resharding).
 */
export function parentsFirst<
  S extends Pick<Shard, 'ShardId' | 'ParentShardId' | 'AdjacentParentShardId'>,
>(shards: readonly S[]): S[] {
  const known = new Set(shards.map((shard) => shard.ShardId));
  const done = new Set<string | undefined>();
  const ordered: S[] = [];
  let pending = [...shards];
  while (pending.length > 0) {
    const ready = pending.filter((shard) =>
      [shard.ParentShardId, shard.AdjacentParentShardId].every(
        (parent) => parent === undefined || !known.has(parent) || done.has(parent),
      ),
    );
    // A cycle cannot happen in Kinesis; keep going rather than loop forever if it did.
    const next = ready.length > 0 ? ready : pending.slice(0, 1);
    for (const shard of next) {
      ordered.push(shard);
      done.add(shard.ShardId);
    }
    pending = pending.filter((shard) => !next.includes(shard));
  }
  return ordered;
}

/** What {@link readStreamBatches} reads. */
export interface StreamRange {
  readonly streamName: string;
  readonly from: Date;
  readonly to?: Date;
  readonly batchSize: number;
}

/**
 * Reads a stream from `from` to `to` (or its tip): AT_TIMESTAMP iterators on every shard, a child
 * only after its parents were read to their end, each GetRecords page of up to `batchSize`
 * records yielded as one event of its shard. The shards are listed before it returns, so a
 * missing stream or an unreachable endpoint fails (exit 2) before any record runs.
 */
export async function readStreamBatches(
  target: KinesisTarget,
  options: StreamRange,
): Promise<AsyncGenerator<KinesisEvent>> {
  const { shards, arn } = await listShards(target, options.streamName);
  return shardBatches(target, options, shards, arn);
}

async function* shardBatches(
  target: KinesisTarget,
  options: StreamRange,
  shards: readonly Shard[],
  arn: string,
): AsyncGenerator<KinesisEvent> {
  const toMs = options.to?.getTime() ?? Number.POSITIVE_INFINITY;
  for (const shard of parentsFirst(shards)) {
    const shardId = shard.ShardId ?? 'shardId-unknown';
    let iterator = (
      await target.client.send(
        new GetShardIteratorCommand({
          StreamName: options.streamName,
          ShardId: shardId,
          ShardIteratorType: 'AT_TIMESTAMP',
          Timestamp: options.from,
        }),
      )
    ).ShardIterator;
    while (iterator) {
      const page = await target.client.send(
        new GetRecordsCommand({
          ShardIterator: iterator,
          Limit: Math.min(options.batchSize, 10_000),
        }),
      );
      const records = page.Records ?? [];
      const inRange = records.filter(
        (record) => (record.ApproximateArrivalTimestamp?.getTime() ?? 0) <= toMs,
      );
      if (inRange.length > 0) {
        yield {
          Records: inRange.map((record) =>
            eventRecord({
              data: record.Data ?? new Uint8Array(),
              partitionKey: record.PartitionKey ?? '',
              sequenceNumber: record.SequenceNumber ?? '0',
              arrivalSeconds: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
              shardId,
              streamArn: arn,
              region: target.region,
            }),
          ),
        };
      }
      const pastEnd = inRange.length < records.length;
      const atTip = records.length === 0 && (page.MillisBehindLatest ?? 0) === 0;
      if (pastEnd || atTip) break;
      iterator = page.NextShardIterator;
    }
  }
}
