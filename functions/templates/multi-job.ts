/**
 * Template: one stage shared by two jobs.
 *
 * Use it when several outputs come from the same view of a batch. Here orders are grouped by
 * customer once (the `byCustomer` stage); two jobs read that grouping concurrently: `totals` adds
 * each customer's orders to a running total in DynamoDB, `notifications` sends a message for each
 * customer who spent at least BIG_SPEND in the batch. The batch is decoded once and the stage is
 * computed once, however many jobs read it. Deploy a job on its own with DRIVERLESS_JOBS=totals.
 *
 * Environment: TABLE_NAME (partition key `customerId`, string), QUEUE_URL. The SDK reads
 * AWS_ENDPOINT_URL_DYNAMODB / _SQS, so the same code runs on AWS, LocalStack and the embedded stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { failuresOf, json, microBatch, type StreamRecord } from 'driverless/runtime';
// zod/mini: full zod's schemas at a fraction of its bundle size, for a short cold start.
import * as z from 'zod/mini';

export const Order = z.object({
  orderId: z.string().check(z.minLength(1)),
  customerId: z.string().check(z.minLength(1)),
  amount: z.number().check(z.positive()),
});
export type Order = z.infer<typeof Order>;

/** A customer's spend in one batch that is worth a notification. */
export const BIG_SPEND = 1000;

/** Calls in flight at once, per job. */
const CONCURRENCY = 16;

/** Reads a variable at cold start, so a misconfigured function fails before its first batch. */
function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the stack passes it to the function`);
  return value;
}

const tableName = requiredEnv('TABLE_NAME');
const queueUrl = requiredEnv('QUEUE_URL');

const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
// With an endpoint override (LocalStack, the embedded stack) the queue URL's host may not
// resolve: keep requests on the configured endpoint.
const sqs = new SQSClient({
  useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
});

/** One customer's orders in the batch, in shard order. */
export interface CustomerOrders {
  readonly customerId: string;
  readonly total: number;
  readonly orders: readonly StreamRecord<Order>[];
}

/** The stage: the batch's orders grouped by customer. */
function byCustomer(records: readonly StreamRecord<Order>[]): CustomerOrders[] {
  const groups = new Map<
    string,
    { customerId: string; total: number; orders: StreamRecord<Order>[] }
  >();
  for (const record of records) {
    const { customerId, amount } = record.data;
    const group = groups.get(customerId) ?? { customerId, total: 0, orders: [] };
    groups.set(customerId, group);
    group.total += amount;
    group.orders.push(record);
  }
  return [...groups.values()];
}

// Kinesis sequence numbers are decimal strings of up to 128 digits; padding them makes
// DynamoDB's string order agree with their numeric order.
const position = (record: StreamRecord<Order>): string => record.sequenceNumber.padStart(128, '0');

/**
 * Adds a customer's orders to their total exactly once, even when the batch is retried: the item
 * keeps, per shard, the position of the last order it counted. A shard's orders arrive in order,
 * so a retry whose condition fails reads that mark and adds only the orders after it.
 */
async function addToTotal(group: CustomerOrders, shardId: string, signal: AbortSignal) {
  const Key = { customerId: group.customerId };
  // Placeholders spare us DynamoDB's reserved words; the mark is per shard because only a
  // shard's sequence numbers are ordered.
  const names = { '#total': 'total', '#count': 'orderCount', '#mark': `counted_${shardId}` };
  const add = (orders: readonly StreamRecord<Order>[], condition: string, values: object) =>
    documents.send(
      new UpdateCommand({
        TableName: tableName,
        Key,
        UpdateExpression: 'ADD #total :total, #count :count SET #mark = :last',
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':total': orders.reduce((sum, order) => sum + order.data.amount, 0),
          ':count': orders.length,
          ':last': position(orders.at(-1)!),
          ...values,
        },
      }),
      { abortSignal: signal },
    );

  try {
    await add(group.orders, 'attribute_not_exists(#mark) OR #mark < :first', {
      ':first': position(group.orders[0]!),
    });
  } catch (error) {
    if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    const { Item } = await documents.send(
      new GetCommand({
        TableName: tableName,
        Key,
        ConsistentRead: true,
        ProjectionExpression: '#mark',
        ExpressionAttributeNames: { '#mark': names['#mark'] },
      }),
      { abortSignal: signal },
    );
    const counted = Item?.[names['#mark']] as string | undefined;
    if (counted === undefined) throw error;
    const rest = group.orders.filter((order) => position(order) > counted);
    if (rest.length > 0) await add(rest, '#mark = :counted', { ':counted': counted });
  }
}

export const handler = microBatch({
  decode: json(Order),
  stages: { byCustomer },
  jobs: {
    totals: async ({ byCustomer }, { shardId, signal }) => {
      const failed = await failuresOf(byCustomer, CONCURRENCY, (group) =>
        addToTotal(group, shardId, signal),
      );
      return { failed: failed.flatMap((group) => group.orders) };
    },
    notifications: async ({ byCustomer }, { signal }) => {
      // At least once: a batch retried after a failure in either job notifies again. Few
      // customers cross the threshold; for many messages, SendMessageBatchCommand takes ten.
      const big = byCustomer.filter((group) => group.total >= BIG_SPEND);
      const failed = await failuresOf(big, CONCURRENCY, (group) =>
        sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify({
              customerId: group.customerId,
              total: group.total,
              orderIds: group.orders.map((order) => order.data.orderId),
            }),
          }),
          { abortSignal: signal },
        ),
      );
      return { failed: failed.flatMap((group) => group.orders) };
    },
  },
});
