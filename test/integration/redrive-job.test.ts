/**
 * `driverless redrive --job` against a real isolated job: the example app isolates `popularity`
 * of `productViews` in its own function (enhanced fan-out, emulated by polling on the embedded
 * stack). Both functions dead-letter the same poison records, one of them too large for SQS (its
 * payload overflows to the source's bucket); redriving the job replays only the isolated
 * function's letters, payloads read back from S3, and leaves the main function's in the queue.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { type RedriveSummary, redrive } from '../../cli/redrive/redrive';
import type { DeadLetter } from '../../functions/runtime/dead-letter';
import type { RecordPosition } from './support/mapping-events';
import { type DiscoveredFunction, type EmbeddedTarget, startTarget } from './support/target';

jest.setTimeout(120_000);

let target: EmbeddedTarget;
let main: DiscoveredFunction;
let popularity: DiscoveredFunction;
let poison: RecordPosition[];
let summary: RedriveSummary;

/** Every letter in the source's dead-letter queue, by function; released again at once. */
async function lettersByFunction(queueUrl: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let empty = 0; empty < 2; ) {
    const out = await target.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 5,
      }),
    );
    const messages = out.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const message of messages) {
      const letter = JSON.parse(message.Body ?? '{}') as DeadLetter;
      counts[letter.functionName ?? ''] = (counts[letter.functionName ?? ''] ?? 0) + 1;
    }
  }
  return counts;
}

beforeAll(async () => {
  const started = await startTarget('embedded', {
    pipeline: 'Retail',
    tuning: { idlePollIntervalMs: 100, retryBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } },
  });
  if (started.kind !== 'embedded') throw new Error('the --job test needs the embedded stack');
  target = started;
  const views = target.functions.filter((fn) => fn.source === 'productViews');
  const isolated = views.find((fn) => fn.jobs === 'popularity');
  const rest = views.find((fn) => fn !== isolated);
  if (!isolated || !rest) throw new Error('productViews has no isolated popularity function');
  popularity = isolated;
  main = rest;

  // Poison records: each function decodes them, rejects them and dead-letters its own copy.
  const out = await target.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: 'product-views',
      Records: ['{"userId":', 'not json', '{"productId":', `{"note":"${'x'.repeat(300_000)}`].map(
        (body, n) => ({
          PartitionKey: `redrive-job-${n}`,
          Data: Buffer.from(body),
        }),
      ),
    }),
  );
  poison = (out.Records ?? []).map((r) => ({
    shardId: r.ShardId ?? '',
    sequenceNumber: r.SequenceNumber ?? '',
  }));
  const mappings = [...main.mappings, ...popularity.mappings].map((m) => m.uuid);
  await target.mappingEvents.until(
    () =>
      mappings.every(
        (uuid) => target.mappingEvents.checkpointedCount(uuid, poison) === poison.length,
      ),
    60_000,
    () => 'poison records not processed by both functions',
  );
  summary = await redrive({
    source: 'productViews',
    job: 'popularity',
    clients: target.clients,
  });
});
afterAll(() => target?.stop());

describe('redrive --job', () => {
  it('replays only the isolated function’s letters, the oversized one from its payload in S3', () => {
    expect({
      records: summary.records,
      stillFailing: summary.stillFailing,
      notRecoverable: summary.notRecoverable,
      functions: [...new Set(summary.stillFailingIds.map((id) => id.split(':')[0]))],
    }).toEqual({
      records: poison.length,
      stillFailing: poison.length,
      notRecoverable: 0,
      functions: [popularity.name],
    });
  });

  it('leaves the main function’s letters in the queue, and the job’s without copies', async () => {
    // Given
    const queueUrl = popularity.environment.DRIVERLESS_DEAD_LETTER_QUEUE_URL ?? '';

    // When
    const counts = await lettersByFunction(queueUrl);

    // Then
    expect(counts).toEqual({ [main.name]: poison.length, [popularity.name]: poison.length });
  });
});
