/**
 * `driverless redrive --job` against a real isolated job: the example app isolates `popularity`
 * of `productViews` in its own function (enhanced fan-out, emulated by polling on the embedded
 * stack). Both functions dead-letter the same poison records, one of them too large for SQS (its
 * payload overflows to the source's bucket); redriving the job replays only the isolated
 * function's letters, payloads read back from S3, and leaves the main function's in the queue.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type RedriveSummary, redrive } from '../../cli/redrive/redrive';
import { letterRecords, peekQueue } from './support/discarded-batch';
import type { RecordPosition } from './support/mapping-events';
import { type DiscoveredFunction, type EmbeddedTarget, startTarget } from './support/target';

jest.setTimeout(120_000);

let target: EmbeddedTarget;
let main: DiscoveredFunction;
let popularity: DiscoveredFunction;
let poison: RecordPosition[];
let summary: RedriveSummary;

/** The records the letters in the source's dead-letter queue name, counted once each, by function. */
async function lettersByFunction(queueUrl: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const record of letterRecords(await peekQueue(target.clients.sqs, queueUrl))) {
    const functionName = record.split('|')[0] ?? '';
    counts[functionName] = (counts[functionName] ?? 0) + 1;
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

  it('keeps the payloads of the oversized letters it keeps: a second run reads them again', async () => {
    // Given: a run over the whole source, whose replays dead-letter every poison record again
    // (the new letters name the payload objects of the letters kept)
    await redrive({ source: 'productViews', clients: target.clients });

    // When
    const again = await redrive({ source: 'productViews', clients: target.clients });

    // Then
    expect({
      records: again.records,
      notRecoverable: again.notRecoverableIds,
    }).toEqual({ records: 2 * poison.length, notRecoverable: [] });
  });
});
