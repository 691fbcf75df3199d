import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';

/** A record seen on a stream: enough to account for it (which mapping processed it). */
export interface TappedRecord {
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Options of {@link startStreamTap}. */
export interface StreamTapOptions {
  readonly kinesis: KinesisClient;
  readonly streams: readonly string[];
  /** Every record put on a stream after the tap started, whoever put it. */
  readonly onRecords: (records: readonly TappedRecord[]) => void;
  /** How often each shard is read. @default 500 */
  readonly intervalMs?: number;
}

/** A running tap: {@link StreamTapOptions.onRecords} is called until `stop()`. */
export interface StreamTap {
  /** Resolves once every shard has an iterator: records put after this are seen. */
  readonly ready: Promise<void>;
  /** Reads every shard once more (what was put so far is reported), then stops. */
  stop(): Promise<void>;
}

/**
 * Reads every shard of `streams` from its tip, as one more consumer would, to count what is put on
 * them by anyone (the demo producer, `driverless put`, the AWS CLI, a user's script): the mappings'
 * own events say what was processed, not what arrived. Shards found later (resharding) are read
 * from their start. Read errors are skipped: the tap only feeds the live view and the accounting.
 */
export function startStreamTap(options: StreamTapOptions): StreamTap {
  const intervalMs = options.intervalMs ?? 500;
  const iterators = new Map<string, { stream: string; shardId: string; iterator?: string }>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const discover = async (first: boolean) => {
    await Promise.all(
      options.streams.map(async (stream) => {
        const listed = await options.kinesis
          .send(new ListShardsCommand({ StreamName: stream }))
          .catch(() => undefined);
        for (const shard of listed?.Shards ?? []) {
          const key = `${stream}/${shard.ShardId}`;
          if (iterators.has(key) || !shard.ShardId) continue;
          const shardId = shard.ShardId;
          const opened = await options.kinesis
            .send(
              new GetShardIteratorCommand({
                StreamName: stream,
                ShardId: shardId,
                ShardIteratorType: first ? 'LATEST' : 'TRIM_HORIZON',
              }),
            )
            .catch(() => undefined);
          iterators.set(key, {
            stream,
            shardId,
            ...(opened?.ShardIterator ? { iterator: opened.ShardIterator } : {}),
          });
        }
      }),
    );
  };

  const readAll = async () => {
    await Promise.all(
      [...iterators.values()].map(async (shard) => {
        // Several pages when a burst outran one read.
        for (let page = 0; page < 10 && shard.iterator; page++) {
          const result = await options.kinesis
            .send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 10_000 }))
            .catch(() => undefined);
          if (!result) return;
          if (result.NextShardIterator) shard.iterator = result.NextShardIterator;
          else delete shard.iterator;
          const records = result.Records ?? [];
          if (records.length > 0) {
            options.onRecords(
              records.map((record) => ({
                stream: shard.stream,
                shardId: shard.shardId,
                sequenceNumber: record.SequenceNumber ?? '',
              })),
            );
          }
          if (records.length < 10_000) return;
        }
      }),
    );
  };

  let cycles = 0;
  const ready = discover(true);
  let running: Promise<void> = ready;
  const tick = () => {
    running = (async () => {
      // Shards appear only through resharding: look for them now and then.
      if (++cycles % 10 === 0) await discover(false);
      await readAll();
    })().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  void ready.then(() => {
    if (!stopped) timer = setTimeout(tick, intervalMs);
  });
  return {
    ready,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running.catch(() => undefined);
      await readAll();
    },
  };
}
