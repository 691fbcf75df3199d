/**
 * Redrive on the embedded stack with a pipeline that keeps its failures in S3 (real fauxqs S3,
 * kinesalite, function host): batches a mapping discarded during a sink outage are replayed from
 * the S3 on-failure records' payload into the sink exactly once and the objects deleted; poison
 * records' letters in the dead-letter bucket are replayed, fail again and are kept, without copies.
 */
import { DeleteBucketCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type RedriveSummary, redrive } from '../../cli/redrive/redrive';
import { runRedrive } from '../../cli/redrive/run-redrive';
import { type ChaosStack, startChaosStack } from '../fixtures/chaos/chaos-stack';
import { captureRedriveOutput } from '../fixtures/redrive-output';
import { orderedSequences, putPoisonAndDiscardedBatch } from './support/discarded-batch';
import type { RecordPosition } from './support/mapping-events';

jest.setTimeout(120_000);

let chaos: ChaosStack;
let good: RecordPosition[];
let poison: RecordPosition[];
let letterBucket: string;
let failureBucket: string;

async function keys(bucket: string): Promise<string[]> {
  const out = await chaos.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((object) => object.Key ?? '').sort();
}

beforeAll(async () => {
  // The construct's default function timeout: the outage fails requests at once, and a shorter
  // one only killed invocations slowed by a loaded machine.
  chaos = await startChaosStack(
    {
      checkpoints: false,
      retryAttempts: 1,
      timeoutSeconds: 60,
      batchSize: 50,
      deadLetterDestination: 'bucket',
      onFailureDestination: 'bucket',
    },
    { retryBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } },
  );
  const mapping = chaos.stack.app.mappings.find((m) => m.uuid === chaos.sources.alpha.mappingUuid);
  letterBucket = chaos.sources.alpha.deadLetterBucket ?? '';
  failureBucket = mapping?.onFailure?.arn.split(':').pop() ?? '';
  if (!letterBucket || mapping?.onFailure?.kind !== 's3')
    throw new Error('alpha keeps no S3 failures');

  ({ poison, good } = await putPoisonAndDiscardedBatch(chaos));
});
afterAll(() => chaos?.stop());

describe('redrive from S3', () => {
  let first: RedriveSummary;
  let lettersBefore: string[];

  it('reports what it would replay in a dry run and changes nothing', async () => {
    // Given
    lettersBefore = await keys(letterBucket);
    const failuresBefore = await keys(failureBucket);

    // When
    const dryRun = await redrive({ source: 'alpha', dryRun: true, clients: chaos.clients });

    // Then
    expect({
      records: dryRun.records,
      deleted: dryRun.deleted,
      letters: await keys(letterBucket),
      failures: await keys(failureBucket),
      applied: (await orderedSequences(chaos)).length,
    }).toEqual({
      records: good.length + poison.length,
      deleted: 0,
      letters: lettersBefore,
      failures: failuresBefore,
      applied: 0,
    });
  });

  it('replays discarded records into the sink exactly once, in order, and deletes their objects', async () => {
    // Given
    const failures = await keys(failureBucket);

    // When
    first = await redrive({ source: 'alpha', clients: chaos.clients });

    // Then
    expect({
      recovered: first.recovered,
      failuresLeft: await keys(failureBucket),
      applied: await orderedSequences(chaos),
    }).toEqual({
      recovered: good.length,
      failuresLeft: [],
      applied: good.map((g) => g.sequenceNumber.replace(/^0+/, '')),
    });
    expect(failures.length).toBeGreaterThan(0);
  });

  it('keeps dead-letter objects whose records still fail, without adding copies', async () => {
    expect({
      stillFailing: first.stillFailing,
      letters: await keys(letterBucket),
    }).toEqual({ stillFailing: poison.length, letters: lettersBefore });
  });

  it('fails if the dead-letter bucket does not exist, with exit 2 and what to check', async () => {
    // Given: beta's dead-letter bucket (empty) was deleted
    const bucket = chaos.sources.beta.deadLetterBucket ?? '';
    await chaos.clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'beta' }, output, chaos.clients);

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        new RegExp(
          `^driverless redrive: cannot read dead-letter bucket ${bucket} \\(.+\\): check the endpoint, that the bucket exists and that you may list and read it \\(s3:ListBucket, s3:GetObject\\)\\n$`,
        ),
      ),
    });
  });
});
