/**
 * The failures the redrive tests recover, made on the chaos stack's source `alpha`: two poison
 * records the runtime dead-letters, and a batch of twenty good records the mapping discards
 * because the `ordered` sink is out for longer than its retries last.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { ChaosStack } from '../../fixtures/chaos/chaos-stack';
import type { RecordPosition } from './mapping-events';

/** The partition key of the discarded batch, as the `ordered` sink keys it. */
const DISCARDED_KEY = 'redrive-key';

export async function putOnAlpha(
  chaos: ChaosStack,
  partitionKey: string,
  bodies: readonly Buffer[],
): Promise<RecordPosition[]> {
  const out = await chaos.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: chaos.sources.alpha.streamName,
      Records: bodies.map((Data) => ({ PartitionKey: partitionKey, Data })),
    }),
  );
  return (out.Records ?? []).map((r) => ({
    shardId: r.ShardId ?? '',
    sequenceNumber: r.SequenceNumber ?? '',
  }));
}

/**
 * Puts the poison records and waits until they are dead-lettered, then puts the good batch during
 * a sink outage and waits until the mapping discarded it (to its on-failure destination).
 */
export async function putPoisonAndDiscardedBatch(
  chaos: ChaosStack,
): Promise<{ readonly poison: RecordPosition[]; readonly good: RecordPosition[] }> {
  const mappingUuid = chaos.sources.alpha.mappingUuid;
  // Poison: dead-lettered by the runtime, the batch goes on.
  const poison = await putOnAlpha(chaos, 'redrive-poison', [
    Buffer.from('{"id":'),
    Buffer.from('not json'),
  ]);
  await chaos.events.until(
    () => chaos.events.checkpointedCount(mappingUuid, poison) === 2,
    30_000,
    () => 'poison records not processed',
  );
  // A sink outage outlasts the mapping's single retry: the batch is discarded.
  chaos.proxy.outage(chaos.tables.ordered, true);
  const good = await putOnAlpha(
    chaos,
    DISCARDED_KEY,
    Array.from({ length: 20 }, (_, n) =>
      Buffer.from(JSON.stringify({ id: `redrive-${n}`, key: DISCARDED_KEY, n })),
    ),
  );
  await chaos.events.until(
    () => chaos.events.discardedCount(mappingUuid, good) === good.length,
    30_000,
    () => `${chaos.events.discardedCount(mappingUuid, good)}/${good.length} discarded`,
  );
  chaos.proxy.outage(chaos.tables.ordered, false);
  return { poison, good };
}

/** What the `ordered` sink holds for the discarded batch's key. */
async function orderedItem(chaos: ChaosStack): Promise<Record<string, unknown> | undefined> {
  const out = await chaos.clients.documents.send(
    new GetCommand({
      TableName: chaos.tables.ordered,
      Key: { pk: `alpha|${DISCARDED_KEY}` },
      ConsistentRead: true,
    }),
  );
  return out.Item;
}

/** The sequence numbers the `ordered` sink applied for the discarded batch's key. */
export async function orderedSequences(chaos: ChaosStack): Promise<string[]> {
  const item = await orderedItem(chaos);
  return ((item?.seqs as string[] | undefined) ?? []).map((s) => s.replace(/^0+/, ''));
}

/**
 * How often the `ordered` sink saw a record of the discarded batch's key again (`repeats`, an
 * applied sequence number) or out of order (`late`): both 0 when each was applied once, in order.
 */
export async function orderedAnomalies(
  chaos: ChaosStack,
): Promise<{ repeats: number; late: number }> {
  const item = await orderedItem(chaos);
  return { repeats: Number(item?.repeats ?? 0), late: Number(item?.lateCount ?? 0) };
}

/**
 * Every message of a queue, read once and made visible again at once. Hidden for a minute
 * while reading, so a slow read never sees a message twice; counted by message id, so a letter
 * the runtime sent twice (a retried batch) shows as two messages of one record.
 */
export async function peekQueue(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages = new Map<string, Message>();
  for (let empty = 0; empty < 2; ) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: empty === 0 ? 0 : 1,
      }),
    );
    const received = out.Messages ?? [];
    empty = received.length === 0 ? empty + 1 : 0;
    for (const message of received) messages.set(message.MessageId ?? '', message);
  }
  const handles = [...messages.values()].flatMap((m) => m.ReceiptHandle ?? []);
  for (let start = 0; start < handles.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: handles.slice(start, start + 10).map((handle, index) => ({
          Id: String(index),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
  return [...messages.values()];
}

/** The distinct records dead letters name, as `function|shard:sequence[:sub]`, sorted. */
export function letterRecords(messages: readonly Message[]): string[] {
  const records = new Set<string>();
  for (const message of messages) {
    const letter = JSON.parse(message.Body ?? '{}') as {
      functionName?: string;
      shardId?: string;
      sequenceNumber?: string;
      subSequenceNumber?: number;
    };
    records.add(
      `${letter.functionName ?? ''}|${letter.shardId}:${letter.sequenceNumber}${letter.subSequenceNumber === undefined ? '' : `:${letter.subSequenceNumber}`}`,
    );
  }
  return [...records].sort();
}
