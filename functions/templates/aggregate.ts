/**
 * Template: a keyed aggregation over event-time windows.
 *
 * Use it for per-key figures over time (sales per store every five minutes) computed on event
 * time, across every shard and invocation of the source: each (store, window) gets one value,
 * emitted once, when the watermark (the slowest shard's latest event time, minus the allowed
 * lateness) passes the window's end. On a quiet stream the pipeline's ticks (`state: true` on the
 * source) move the watermark on, so a window is emitted within a tick of being due.
 *
 * Records older than the watermark are late: they are dead-lettered with reason `late`, never
 * folded into a window already emitted. Swap `tumbling('5m')` for `sliding({ size: '10m',
 * every: '1m' })` or `session({ gap: '30m' })` as needed.
 *
 * Environment: TABLE_NAME (partition key `storeId`, sort key `windowStart`, both strings), and
 * DRIVERLESS_STATE_TABLE, which the pipeline sets when the source has `state: true`. The SDK
 * reads AWS_ENDPOINT_URL_DYNAMODB, so the same code runs on AWS, LocalStack and the embedded stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { aggregate, json, microBatch, tumbling } from 'driverless/runtime';
// zod/mini: full zod's schemas at a fraction of its bundle size, for a short cold start.
import * as z from 'zod/mini';

export const Sale = z.object({
  storeId: z.string().check(z.minLength(1)),
  // Integer cents keep the sums exact.
  amountCents: z.number().check(z.int(), z.nonnegative()),
  /** When the sale happened (epoch milliseconds): the event time windows are cut on. */
  ts: z.number().check(z.int(), z.nonnegative()),
});
export type Sale = z.infer<typeof Sale>;

/** A store's figures in one window. */
export interface StoreSales {
  readonly count: number;
  readonly sumCents: number;
}

/** Reads a variable at cold start, so a misconfigured function fails before its first batch. */
function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the stack passes it to the function`);
  return value;
}

const tableName = requiredEnv('TABLE_NAME');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = microBatch({
  decode: json(Sale),
  jobs: {
    salesPerStore: aggregate({
      key: (record) => record.data.storeId,
      eventTime: (record) => record.data.ts,
      window: tumbling('5m'),
      watermark: { allowedLateness: '1m', idleShardAfter: '1m' },
      init: (): StoreSales => ({ count: 0, sumCents: 0 }),
      add: (sales, record) => ({
        count: sales.count + 1,
        sumCents: sales.sumCents + record.data.amountCents,
      }),
      merge: (a, b) => ({ count: a.count + b.count, sumCents: a.sumCents + b.sumCents }),
      late: 'dead-letter',
      // Called once per closed (store, window). A PutItem of the window's final value is
      // idempotent: if a write fails, the runtime emits the same value again, which writes the
      // same item.
      emit: async ({ key, start, end, value }) => {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: {
              storeId: key,
              windowStart: new Date(start).toISOString(),
              windowEnd: new Date(end).toISOString(),
              ...value,
            },
          }),
        );
      },
    }),
  },
});
