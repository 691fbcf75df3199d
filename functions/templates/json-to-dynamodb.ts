/**
 * Template: JSON records → one DynamoDB item each.
 *
 * Use it when each record is a self-contained fact you want to keep by its id (a product, a
 * profile, a device's latest reading) and nothing needs to be computed across records. Records
 * that fail the schema go to the dead-letter destination with the reason; records whose write
 * fails are returned as failed, so only they (and what follows them on the shard) are retried.
 *
 * Environment: TABLE_NAME (partition key `id`, string). The SDK reads AWS_ENDPOINT_URL_DYNAMODB,
 * so the same code runs on AWS, LocalStack and the embedded stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { failuresOf, json, microBatch, type StreamRecord } from 'driverless/runtime';
// zod/mini: the same schemas and Standard Schema support at a fraction of full zod's bundle size
// (about 16 KB instead of 443 KB), which keeps the function's cold start short.
import * as z from 'zod/mini';

/** The record's shape; anything else is dead-lettered. */
export const Product = z.object({
  id: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  price: z.number().check(z.nonnegative()),
  updatedAt: z.iso.datetime(),
});
export type Product = z.infer<typeof Product>;

/** Writes in flight at once: enough to hide latency, few enough not to burst the table. */
const CONCURRENCY = 16;

/** Reads a variable at cold start, so a misconfigured function fails before its first batch. */
function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the stack passes it to the function`);
  return value;
}

const tableName = requiredEnv('TABLE_NAME');

// Created once per container and reused by every invocation.
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/**
 * The last record of each id, in shard order. Writing one item per id keeps two concurrent
 * writes of the same id from landing out of order.
 */
function latestById(records: readonly StreamRecord<Product>[]): StreamRecord<Product>[] {
  const latest = new Map<string, StreamRecord<Product>>();
  for (const record of records) latest.set(record.data.id, record);
  return [...latest.values()];
}

export const handler = microBatch({
  decode: json(Product),
  jobs: {
    store: async ({ records }, { signal }) => {
      // Idempotent by construction: PutItem keyed by the natural id writes the same item again
      // when a batch is retried, so no condition is needed. (Without a natural id, key by
      // `${shardId}:${sequenceNumber}` with `attribute_not_exists` instead.)
      const failed = await failuresOf(latestById(records), CONCURRENCY, (record) =>
        documents.send(new PutCommand({ TableName: tableName, Item: record.data }), {
          abortSignal: signal,
        }),
      );
      return { failed };
    },
  },
});
