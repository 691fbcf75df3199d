/**
 * Template: a tumbling-window aggregation.
 *
 * Use it for per-key aggregates over fixed time windows (sales per store every five minutes)
 * when writing once per window beats writing once per batch. Set `tumblingWindow` on the source:
 * Lambda then carries this handler's state from one invocation to the next and marks the
 * window's last invocation, where `onClose` writes the final aggregate.
 *
 * Windows are per shard, so each shard writes its own item per store and window; readers sum
 * the items of a window (Query with `begins_with(window, <start>)`). Lambda ends a window early
 * when its state passes 1 MB, so keep the keys few (about 10,000 stores here).
 *
 * Environment: TABLE_NAME (partition key `storeId`, sort key `window`, both strings). The SDK
 * reads AWS_ENDPOINT_URL_DYNAMODB, so the same code runs on AWS, LocalStack and the embedded stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { json, microBatch, type StreamRecord, type WindowContext } from 'driverless/runtime';
// zod/mini: full zod's schemas at a fraction of its bundle size, for a short cold start.
import * as z from 'zod/mini';

export const Sale = z.object({
  storeId: z.string().check(z.minLength(1)),
  // Integer cents keep the sums exact.
  amountCents: z.number().check(z.int(), z.nonnegative()),
});
export type Sale = z.infer<typeof Sale>;

/** The window's state; Lambda carries it as JSON between invocations. */
export interface SalesWindow {
  /** The window's first sequence number: tells apart two windows of one period (early end). */
  readonly from?: string;
  readonly stores: Readonly<Record<string, { readonly count: number; readonly sumCents: number }>>;
}

/** Writes in flight at once when a window closes. */
const CONCURRENCY = 16;

/** Reads a variable at cold start, so a misconfigured function fails before its first batch. */
function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the stack passes it to the function`);
  return value;
}

const tableName = requiredEnv('TABLE_NAME');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

function reduce(state: SalesWindow, records: readonly StreamRecord<Sale>[]): SalesWindow {
  const stores = { ...state.stores };
  for (const { data } of records) {
    const seen = stores[data.storeId] ?? { count: 0, sumCents: 0 };
    stores[data.storeId] = { count: seen.count + 1, sumCents: seen.sumCents + data.amountCents };
  }
  return { from: state.from ?? records[0]?.sequenceNumber, stores };
}

/**
 * Writes one item per store. A PutItem of the final state is idempotent: if a write fails, the
 * throw makes Lambda retry the final invocation with the same state, which writes the same items.
 */
async function onClose(state: SalesWindow, context: WindowContext): Promise<void> {
  if (state.from === undefined) return;
  const window = `${context.window.start.toISOString()}#${context.shardId}#${state.from}`;
  // Stop before Lambda's timeout so the invocation can still answer.
  const abortSignal = AbortSignal.timeout(
    Math.max(0, context.lambda.getRemainingTimeInMillis() - 1000),
  );
  const stores = Object.entries(state.stores);
  const worker = async () => {
    for (let entry = stores.shift(); entry !== undefined; entry = stores.shift()) {
      const [storeId, totals] = entry;
      await documents.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            storeId,
            window,
            windowStart: context.window.start.toISOString(),
            windowEnd: context.window.end.toISOString(),
            ...totals,
          },
        }),
        { abortSignal },
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, stores.length) }, worker));
}

export const handler = microBatch({
  decode: json(Sale),
  window: { init: (): SalesWindow => ({ stores: {} }), reduce, onClose },
});
