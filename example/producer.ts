import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';

/** A record put on a stream, as the producer remembers it for accounting. */
export interface ProducedRecord {
  readonly stream: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly poison: boolean;
}

export interface RetailProducerOptions {
  readonly kinesis: KinesisClient;
  readonly viewsStream: string;
  readonly ordersStream: string;
  /** Records per second across both streams. */
  readonly ratePerSecond: number;
  /** Stop after this many records. @default - run until stopped */
  readonly limit?: number;
  /** Share of records that are malformed, to show dead letters. @default 0.002 */
  readonly poisonRate?: number;
  readonly onPut?: (records: readonly ProducedRecord[]) => void;
  /** Deterministic randomness for tests. @default Math.random */
  readonly random?: () => number;
}

const USERS = 2_000;
const PRODUCTS = 500;
const POISON = ['not json at all', '{"userId": 42}', '{"truncated": '];

/** Zipf-like skew: a few users and products account for most events, as in real shops. */
function skewed(random: () => number, size: number): number {
  return Math.min(size - 1, Math.floor(size * random() ** 3));
}

/**
 * Puts realistic retail events: product views (most traffic) and orders (about one in ten),
 * with skewed keys and an occasional malformed record. Resolves when `limit` is reached or
 * `stop()` is called.
 */
export function startRetailProducer(options: RetailProducerOptions): {
  done: Promise<number>;
  stop: () => void;
} {
  const random = options.random ?? Math.random;
  const poisonRate = options.poisonRate ?? 0.002;
  let stopped = false;
  let sent = 0;
  const tickMs = 100;

  const event = (): { stream: string; partitionKey: string; data: string } => {
    const user = `user-${String(skewed(random, USERS)).padStart(5, '0')}`;
    const ts = Date.now();
    const isOrder = random() < 0.1;
    if (random() < poisonRate) {
      return {
        stream: isOrder ? options.ordersStream : options.viewsStream,
        partitionKey: user,
        data: POISON[Math.floor(random() * POISON.length)]!,
      };
    }
    if (isOrder) {
      const items = Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({
        productId: `product-${String(skewed(random, PRODUCTS)).padStart(4, '0')}`,
        quantity: 1 + Math.floor(random() * 2),
      }));
      return {
        stream: options.ordersStream,
        partitionKey: user,
        data: JSON.stringify({
          orderId: `order-${ts}-${Math.floor(random() * 1e9)}`,
          userId: user,
          items,
          ts,
        }),
      };
    }
    const productId = `product-${String(skewed(random, PRODUCTS)).padStart(4, '0')}`;
    return {
      stream: options.viewsStream,
      partitionKey: user,
      data: JSON.stringify({ userId: user, productId, ts }),
    };
  };

  const done = (async () => {
    const startedAt = Date.now();
    let next = startedAt;
    let made = 0;
    while (!stopped && (options.limit === undefined || sent < options.limit)) {
      // What the rate allows by now, less what was made: a rate under one record per tick puts
      // one record every few ticks instead of one every tick.
      const allowed = Math.floor(((Date.now() - startedAt) * options.ratePerSecond) / 1000) + 1;
      const due = Math.max(0, allowed - made);
      const count = options.limit === undefined ? due : Math.min(due, options.limit - sent);
      made += count;
      const byStream = new Map<string, { partitionKey: string; data: string }[]>();
      for (let i = 0; i < count; i++) {
        const { stream, ...record } = event();
        byStream.set(stream, [...(byStream.get(stream) ?? []), record]);
      }
      await Promise.all(
        [...byStream].map(async ([stream, records]) => {
          for (let start = 0; start < records.length; start += 500) {
            const chunk = records.slice(start, start + 500);
            const result = await options.kinesis.send(
              new PutRecordsCommand({
                StreamName: stream,
                Records: chunk.map((r) => ({
                  PartitionKey: r.partitionKey,
                  Data: Buffer.from(r.data),
                })),
              }),
            );
            const produced: ProducedRecord[] = [];
            (result.Records ?? []).forEach((entry, index) => {
              if (entry.SequenceNumber && entry.ShardId) {
                produced.push({
                  stream,
                  shardId: entry.ShardId,
                  sequenceNumber: entry.SequenceNumber,
                  poison:
                    !chunk[index]!.data.startsWith('{"') || POISON.includes(chunk[index]!.data),
                });
              }
            });
            sent += produced.length;
            options.onPut?.(produced);
          }
        }),
      );
      next += tickMs;
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else next = Date.now();
    }
    return sent;
  })();
  return {
    done,
    stop: () => {
      stopped = true;
    },
  };
}
