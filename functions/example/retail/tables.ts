import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import type * as Documents from '@aws-sdk/lib-dynamodb';

let sdk: { documents: Documents.DynamoDBDocumentClient; commands: typeof Documents } | undefined;

/**
 * The document client, created on first use and then reused by every invocation. Loading the SDK
 * is three quarters of this function's init time (`npm run bench -- coldStart`); deferring it keeps
 * init short, and the first batch pays for it instead. The SDK reads AWS_ENDPOINT_URL_DYNAMODB
 * itself, so the same code runs on AWS, LocalStack and the embedded stack.
 */
function dynamo(): { documents: Documents.DynamoDBDocumentClient; commands: typeof Documents } {
  if (!sdk) {
    const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof DynamoDB;
    const commands = require('@aws-sdk/lib-dynamodb') as typeof Documents;
    sdk = { documents: commands.DynamoDBDocumentClient.from(new DynamoDBClient({})), commands };
  }
  return sdk;
}

function tableName(
  variable: 'RECOMMENDATIONS_TABLE' | 'POPULARITY_TABLE' | 'TRENDING_TABLE' | 'CONVERSIONS_TABLE',
): string {
  const name = process.env[variable];
  if (!name)
    throw new Error(`${variable} is not set: the stack passes each table's name to the function`);
  return name;
}

/** Runs `work` over `items` with at most `limit` calls in flight. */
export async function forEachLimited<T>(
  items: Iterable<T>,
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await work(item);
  });
  await Promise.all(workers);
}

const isConditionFailure = (error: unknown): boolean =>
  (error as { name?: string })?.name === 'ConditionalCheckFailedException';

/**
 * Records that a user viewed a product at `viewedAt`. Keeping the latest time is idempotent:
 * a retried batch writes the same value or loses the condition.
 */
export async function recordView(
  userId: string,
  productId: string,
  viewedAt: number,
  signal?: AbortSignal,
) {
  const { documents, commands } = dynamo();
  try {
    await documents.send(
      new commands.UpdateCommand({
        TableName: tableName('RECOMMENDATIONS_TABLE'),
        Key: { userId, productId },
        UpdateExpression: 'SET viewedAt = :at',
        ConditionExpression: 'attribute_not_exists(viewedAt) OR viewedAt < :at',
        ExpressionAttributeValues: { ':at': viewedAt },
      }),
      { abortSignal: signal },
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** Marks a product as bought by a user, so it is no longer recommended. Idempotent. */
export async function recordPurchase(
  userId: string,
  productId: string,
  orderId: string,
  signal?: AbortSignal,
) {
  const { documents, commands } = dynamo();
  await documents.send(
    new commands.UpdateCommand({
      TableName: tableName('RECOMMENDATIONS_TABLE'),
      Key: { userId, productId },
      UpdateExpression: 'SET purchased = :yes, orderId = :order',
      ExpressionAttributeValues: { ':yes': true, ':order': orderId },
    }),
    { abortSignal: signal },
  );
}

// Kinesis sequence numbers are decimal strings of up to 128 digits; padding makes DynamoDB's
// string comparison agree with numeric order.
const padded = (sequenceNumber: string): string => sequenceNumber.padStart(128, '0');

/**
 * Adds views to a product's count for one minute, exactly once per record even when batches are
 * retried: the item remembers, per shard, the last sequence number it counted. A shard's records
 * arrive in order, so a retried write either finds its records already counted (and skips them)
 * or extends the count from that mark.
 *
 * @param sequenceNumbers the sequence numbers of this shard's views of the product in that minute, ascending
 */
export async function addViews(
  productId: string,
  minute: string,
  shardId: string,
  sequenceNumbers: readonly string[],
  signal?: AbortSignal,
): Promise<void> {
  const { documents, commands } = dynamo();
  const key = { productId, minute };
  const mark = `seq_${shardId}`;
  let counted = sequenceNumbers.map(padded);
  let expectedMark: string | undefined;
  for (let attempt = 0; attempt < 5 && counted.length > 0; attempt++) {
    try {
      await documents.send(
        new commands.UpdateCommand({
          TableName: tableName('POPULARITY_TABLE'),
          Key: key,
          UpdateExpression: 'ADD #views :n SET #mark = :last',
          ConditionExpression:
            expectedMark === undefined
              ? 'attribute_not_exists(#mark) OR #mark < :first'
              : '#mark = :expected',
          ExpressionAttributeNames: { '#views': 'views', '#mark': mark },
          ExpressionAttributeValues: {
            ':n': counted.length,
            ':last': counted[counted.length - 1],
            ...(expectedMark === undefined
              ? { ':first': counted[0] }
              : { ':expected': expectedMark }),
          },
        }),
        { abortSignal: signal },
      );
      return;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Some of these views were counted by an earlier attempt: count only those after the mark.
      const current = await documents.send(
        new commands.GetCommand({
          TableName: tableName('POPULARITY_TABLE'),
          Key: key,
          ConsistentRead: true,
        }),
        { abortSignal: signal },
      );
      expectedMark = current.Item?.[mark] as string | undefined;
      if (expectedMark === undefined) continue;
      const from = expectedMark;
      counted = counted.filter((sequenceNumber) => sequenceNumber > from);
    }
  }
  if (counted.length > 0)
    throw new Error(`popularity of ${productId} at ${minute} kept changing under us`);
}

/**
 * Writes a product's views in the 10 minutes up to `windowEnd`. The runtime emits each window once
 * with its final value; a PutItem of that value is idempotent if the emit is retried.
 */
export async function putTrending(
  productId: string,
  windowEnd: Date,
  views: number,
  signal?: AbortSignal,
): Promise<void> {
  const { documents, commands } = dynamo();
  await documents.send(
    new commands.PutCommand({
      TableName: tableName('TRENDING_TABLE'),
      Item: { productId, windowEnd: windowEnd.toISOString(), views },
    }),
    { abortSignal: signal },
  );
}

/** How long a counted result's marker is kept: past the longest a join can re-emit a result. */
const COUNTED_MARKER_DAYS = 14;

/**
 * Counts one result of the conversions join for a product: a view followed by an order of it
 * (`converted`), or a view no order followed (`notConverted`); the conversion rate is
 * `converted / (converted + notConverted)` (exact while a view is followed by at most one order of
 * the product).
 *
 * The runtime emits a result again if the process was killed after `emit` and before it marked the
 * result emitted, so the count must not move twice for one `resultId` (the join's `id`). DynamoDB
 * changes one item atomically and the embedded stack has no transactions, so a result's count goes
 * through two items: the product's counter, which holds the ids being counted in a set beside the
 * count (the ADD and the id go in one write, conditional on the id not being there), and a marker
 * item per result (key `result|<resultId>`, expiring after {@link COUNTED_MARKER_DAYS} days). In
 * order: the marker is set to `counting` (or found `counted`: nothing more to count); the product
 * adds one and the id; the marker becomes `counted`; the id leaves the product's set. A repeat
 * after any of these steps redoes only what is missing. The runtime emits one result from one
 * function at a time, so two attempts never interleave.
 */
export async function countConversion(
  productId: string,
  converted: boolean,
  resultId: string,
  signal?: AbortSignal,
): Promise<void> {
  const { documents, commands } = dynamo();
  const table = tableName('CONVERSIONS_TABLE');
  const marker = { productId: `result|${resultId}` };
  const options = { abortSignal: signal };
  const forgetId = () =>
    documents.send(
      new commands.UpdateCommand({
        TableName: table,
        Key: { productId },
        UpdateExpression: 'DELETE #counting :id',
        ExpressionAttributeNames: { '#counting': 'counting' },
        ExpressionAttributeValues: { ':id': new Set([resultId]) },
      }),
      options,
    );
  const before = await documents.send(
    new commands.UpdateCommand({
      TableName: table,
      Key: marker,
      UpdateExpression: 'SET #state = if_not_exists(#state, :counting), expiresAt = :expiresAt',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':counting': 'counting',
        ':expiresAt': Math.floor(Date.now() / 1000) + COUNTED_MARKER_DAYS * 86_400,
      },
      ReturnValues: 'ALL_OLD',
    }),
    options,
  );
  if (before.Attributes?.state === 'counted') {
    // Counted by an attempt that may have stopped before the id left the product's set.
    await forgetId();
    return;
  }
  try {
    await documents.send(
      new commands.UpdateCommand({
        TableName: table,
        Key: { productId },
        UpdateExpression: 'ADD #counter :one, #counting :id',
        ConditionExpression: 'NOT contains(#counting, :resultId)',
        ExpressionAttributeNames: {
          '#counter': converted ? 'converted' : 'notConverted',
          '#counting': 'counting',
        },
        ExpressionAttributeValues: {
          ':one': 1,
          ':id': new Set([resultId]),
          ':resultId': resultId,
        },
      }),
      options,
    );
  } catch (error) {
    // The id is in the set: an earlier attempt added its one.
    if (!isConditionFailure(error)) throw error;
  }
  await documents.send(
    new commands.UpdateCommand({
      TableName: table,
      Key: marker,
      UpdateExpression: 'SET #state = :counted',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':counted': 'counted' },
    }),
    options,
  );
  await forgetId();
}
