/**
 * The failures the redrive tests recover, made on the chaos stack's source `alpha`: two poison
 * records the runtime dead-letters, and a batch of twenty good records the mapping discards
 * because the `ordered` sink is out for longer than its retries last.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
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

/** The sequence numbers the `ordered` sink applied for the discarded batch's key. */
export async function orderedSequences(chaos: ChaosStack): Promise<string[]> {
  const out = await chaos.clients.documents.send(
    new GetCommand({
      TableName: chaos.tables.ordered,
      Key: { pk: `alpha|${DISCARDED_KEY}` },
      ConsistentRead: true,
    }),
  );
  return ((out.Item?.seqs as string[] | undefined) ?? []).map((s) => s.replace(/^0+/, ''));
}
