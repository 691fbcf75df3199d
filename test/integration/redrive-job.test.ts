/**
 * `driverless redrive --job` against a real isolated job: the example app isolates `popularity`
 * of `productViews` in its own function (enhanced fan-out, emulated by polling on the embedded
 * stack). Both functions dead-letter the same poison records, one of them too large for SQS (its
 * payload overflows to the source's bucket); redriving the job replays only the isolated
 * function's letters, payloads read back from S3, and leaves the main function's in the queue.
 */
import { join } from 'node:path';
import { type LocalFunctionResource, type LocalPipeline, startLocal } from 'driverless/testing';
import { type RedriveSummary, redrive } from '../../cli/redrive/redrive';
import { letterRecords, peekQueue } from './support/discarded-batch';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..');

let local: LocalPipeline;
let main: LocalFunctionResource;
let popularity: LocalFunctionResource;
/** The poison records put, each dead-lettered once by each function. */
let poison: number;
let summary: RedriveSummary;

/** The records the letters in the source's dead-letter queue name, counted once each, by function. */
async function lettersByFunction(queueUrl: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const record of letterRecords(await peekQueue(local.clients.sqs, queueUrl))) {
    const functionName = record.split('|')[0] ?? '';
    counts[functionName] = (counts[functionName] ?? 0) + 1;
  }
  return counts;
}

beforeAll(async () => {
  local = await startLocal({ app: ROOT, retryDelayMs: 50 });
  const views = local.resources.functions.filter((fn) => fn.source === 'productViews');
  const isolated = views.find((fn) => fn.environment.DRIVERLESS_JOBS === 'popularity');
  const rest = views.find((fn) => fn !== isolated);
  if (!isolated || !rest) throw new Error('productViews has no isolated popularity function');
  popularity = isolated;
  main = rest;

  // Poison records: each function decodes them, rejects them and dead-letters its own copy.
  const bodies = ['{"userId":', 'not json', '{"productId":', `{"note":"${'x'.repeat(300_000)}`];
  poison = bodies.length;
  await local.put(
    'product-views',
    bodies.map((body, n) => ({ data: body, partitionKey: `redrive-job-${n}` })),
  );
  await local.drained({ timeoutMs: 60_000 });
  summary = await redrive({
    source: 'productViews',
    job: 'popularity',
    clients: local.clients,
  });
});
afterAll(() => local?.stop());

describe('redrive --job', () => {
  it('replays only the isolated function’s letters, the oversized one from its payload in S3', () => {
    expect({
      records: summary.records,
      stillFailing: summary.stillFailing,
      notRecoverable: summary.notRecoverable,
      functions: [...new Set(summary.stillFailingIds.map((id) => id.split(':')[0]))],
    }).toEqual({
      records: poison,
      stillFailing: poison,
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
    expect(counts).toEqual({ [main.name]: poison, [popularity.name]: poison });
  });

  it('keeps the payloads of the oversized letters it keeps: a second run reads them again', async () => {
    // Given: a run over the whole source, whose replays dead-letter every poison record again
    // (the new letters name the payload objects of the letters kept)
    await redrive({ source: 'productViews', clients: local.clients });

    // When
    const again = await redrive({ source: 'productViews', clients: local.clients });

    // Then
    expect({
      records: again.records,
      notRecoverable: again.notRecoverableIds,
    }).toEqual({ records: 2 * poison, notRecoverable: [] });
  });
});
