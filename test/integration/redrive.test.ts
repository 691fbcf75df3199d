/**
 * Redrive on the embedded stack: records a mapping discarded during a sink outage (on-failure
 * pointers) are re-read from the stream and replayed through the source's `live` alias into the
 * sink exactly once; poison records (dead letters) are replayed, fail again and are kept.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type RedriveSummary, redrive } from '../../cli/redrive/redrive';
import { RedriveUsageError } from '../../cli/redrive/redrive-error';
import { runRedrive } from '../../cli/redrive/run-redrive';
import { type ChaosStack, startChaosStack } from '../fixtures/chaos/chaos-stack';
import { captureRedriveOutput } from '../fixtures/redrive-output';
import {
  letterRecords,
  orderedAnomalies,
  orderedSequences,
  peekQueue,
  putPoisonAndDiscardedBatch,
} from './support/discarded-batch';
import type { RecordPosition } from './support/mapping-events';

jest.setTimeout(120_000);

let chaos: ChaosStack;
let good: RecordPosition[];
let poison: RecordPosition[];
let pointerQueueUrl: string;
/** The dead letters' message ids before the first redrive. */
let lettersBeforeRedrive: string[];
/** {@link effectAttempts} before the first redrive. */
let effectsBeforeRedrive: Map<string, number>;

const clients = () => chaos.clients;

/**
 * How often the effects job applied each record of the discarded batch: its item counts every
 * attempt after the first in `repeats`.
 */
async function effectAttempts(): Promise<Map<string, number>> {
  const out = await chaos.clients.documents.send(
    new ScanCommand({ TableName: chaos.tables.effects, ConsistentRead: true }),
  );
  return new Map(
    (out.Items ?? [])
      .filter((item) => String(item.pk).startsWith('alpha|effects|redrive-'))
      .map((item) => [String(item.pk), 1 + Number(item.repeats ?? 0)]),
  );
}

/** The message ids of alpha's dead letters, sorted. */
async function letterMessageIds(): Promise<string[]> {
  const messages = await peekQueue(chaos.clients.sqs, chaos.sources.alpha.deadLetterQueueUrl);
  return messages.map((m) => m.MessageId ?? '').sort();
}

/** The records alpha's dead letters name, each once however many letters name it. */
async function deadLetteredRecords(): Promise<string[]> {
  return letterRecords(await peekQueue(chaos.clients.sqs, chaos.sources.alpha.deadLetterQueueUrl));
}

const recordsOf = (positions: readonly { shardId: string; sequenceNumber: string }[]) =>
  positions
    .map((p) => `${chaos.sources.alpha.functionName}|${p.shardId}:${p.sequenceNumber}`)
    .sort();

async function visibleMessages(queueUrl: string): Promise<number> {
  const out = await chaos.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

beforeAll(async () => {
  // Without cursors: this test is about what redrive reads, replays and deletes. A replay bypasses
  // the cursors that later batches moved past the discarded records (test/unit/runtime/cursors.test.ts).
  // The construct's default function timeout: the outage below fails requests at once, and a
  // 5 s timeout only killed invocations slowed by a loaded machine (the mapping's, which then
  // dead-lettered the poison records twice, and the replay's, which then recovered nothing).
  chaos = await startChaosStack(
    { checkpoints: false, retryAttempts: 1, timeoutSeconds: 60, batchSize: 50 },
    { retryBackoff: { initialMs: 50, multiplier: 1, maxMs: 50 } },
  );
  const fn = chaos.stack.app.functions.find((f) => f.name === chaos.sources.alpha.functionName);
  const mapping = chaos.stack.app.mappings.find((m) => m.uuid === chaos.sources.alpha.mappingUuid);
  const queue = chaos.stack.app.queues.find((q) => q.arn === mapping?.onFailure?.arn);
  if (!fn || !queue) throw new Error('alpha has no on-failure queue');
  pointerQueueUrl = queue.url;

  ({ poison, good } = await putPoisonAndDiscardedBatch(chaos));
});
afterAll(() => chaos?.stop());

describe('redrive', () => {
  let dryRun: RedriveSummary;
  let first: RedriveSummary;
  let second: RedriveSummary;

  it('reports what it would replay in a dry run and changes nothing', async () => {
    // Given
    const pointersBefore = await visibleMessages(pointerQueueUrl);
    const lettersBefore = await letterMessageIds();

    // When
    dryRun = await redrive({ source: 'alpha', dryRun: true, clients: clients() });

    // Then
    expect({
      records: dryRun.records,
      recovered: dryRun.recovered,
      deleted: dryRun.deleted,
      pointers: await visibleMessages(pointerQueueUrl),
      letters: await letterMessageIds(),
      applied: (await orderedSequences(chaos)).length,
    }).toEqual({
      records: good.length + poison.length,
      recovered: 0,
      deleted: 0,
      pointers: pointersBefore,
      letters: lettersBefore,
      applied: 0,
    });
  });

  it('replays discarded records into the sink exactly once, in order, and deletes their pointers', async () => {
    // Given
    const pointers = await visibleMessages(pointerQueueUrl);
    lettersBeforeRedrive = await letterMessageIds();
    effectsBeforeRedrive = await effectAttempts();

    // When
    first = await redrive({ source: 'alpha', clients: clients() });

    // Then
    expect({
      recovered: first.recovered,
      deleted: first.deleted,
      pointersLeft: await visibleMessages(pointerQueueUrl),
      applied: await orderedSequences(chaos),
    }).toEqual({
      recovered: good.length,
      deleted: pointers,
      pointersLeft: 0,
      applied: good.map((g) => g.sequenceNumber.replace(/^0+/, '')),
    });
  });

  it('keeps dead letters whose records still fail, without adding copies', async () => {
    expect({
      stillFailing: first.stillFailing,
      letters: await letterMessageIds(),
      records: await deadLetteredRecords(),
    }).toEqual({
      stillFailing: poison.length,
      letters: lettersBeforeRedrive,
      records: recordsOf(poison),
    });
  });

  it('is idempotent: a second run finds only the records that still fail', async () => {
    // When
    second = await redrive({ source: 'alpha', clients: clients() });

    // Then
    expect({
      records: second.records,
      recovered: second.recovered,
      deleted: second.deleted,
      applied: (await orderedSequences(chaos)).length,
    }).toEqual({ records: poison.length, recovered: 0, deleted: 0, applied: good.length });
  });

  it('applies each effect once per replay, none twice', async () => {
    // When
    const after = await effectAttempts();

    // Then: the three runs replayed each good record once; without cursors the mapping's own
    // attempts during the outage applied the effects job before, so only the runs' share counts
    expect({
      replayed: good.map((_, n) => {
        const pk = `alpha|effects|redrive-${n}`;
        return { pk, applied: (after.get(pk) ?? 0) - (effectsBeforeRedrive.get(pk) ?? 0) };
      }),
      ordered: await orderedAnomalies(chaos),
    }).toEqual({
      replayed: good.map((_, n) => ({ pk: `alpha|effects|redrive-${n}`, applied: 1 })),
      ordered: { repeats: 0, late: 0 },
    });
  });

  it('exits 1 with a summary when records still fail, with endpoints from an endpoint file', async () => {
    // Given: the endpoints as `npm start` writes them to .driverless/local.json
    const file = join(chaos.stack.app.functions[0]?.codeDirectory ?? '.', '..', 'local.json');
    await writeFile(
      file,
      JSON.stringify({ region: 'us-east-1', endpoints: chaos.stack.endpoints }),
    );
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'alpha', json: true, endpointFile: file }, output);

    // Then
    expect({ code, stillFailing: JSON.parse(lines.stdout).stillFailing }).toEqual({
      code: 1,
      stillFailing: poison.length,
    });
  });

  it('fails if the source is unknown, with exit 2 and one line', async () => {
    // Given
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'nope' }, output, clients());

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: 'driverless redrive: unknown source "nope" (sources: alpha, beta)\n',
    });
  });

  it('fails if the job is not one the source runs in its own function', async () => {
    await expect(redrive({ source: 'alpha', job: 'nope', clients: clients() })).rejects.toThrow(
      RedriveUsageError,
    );
  });

  it('fails if --since is not a time', async () => {
    // Given
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'alpha', since: 'yesterday' }, output, clients());

    // Then
    expect({ code, lines: lines.stderr.split('\n').length }).toEqual({ code: 2, lines: 2 });
  });

  it('fails if the endpoint is unreachable, with exit 2', async () => {
    // Given: an endpoint file naming a port nothing listens on
    const file = join(chaos.stack.app.functions[0]?.codeDirectory ?? '.', '..', 'dead.json');
    const dead = 'http://127.0.0.1:9';
    await writeFile(
      file,
      JSON.stringify({ endpoints: { lambda: dead, sqs: dead, kinesis: dead, s3: dead } }),
    );
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'alpha', endpointFile: file }, output);

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(/^driverless redrive: cannot reach the AWS endpoints of .*\n$/),
    });
  });

  it('fails if the endpoint file is missing, with exit 2', async () => {
    const { lines, output } = captureRedriveOutput();
    const code = await runRedrive(
      { source: 'alpha', endpointFile: '/nonexistent/local.json' },
      output,
    );
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr:
        'driverless redrive: endpoint file /nonexistent/local.json is not found: start the embedded stack (npm start) or pass --endpoint-file\n',
    });
  });

  it('fails if the dead-letter queue does not exist, with exit 2 and what to check', async () => {
    // Given: beta's dead-letter queue was deleted
    await chaos.clients.sqs.send(
      new DeleteQueueCommand({ QueueUrl: chaos.sources.beta.deadLetterQueueUrl }),
    );
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'beta' }, output, clients());

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        /^driverless redrive: cannot read dead-letter queue \S+ \(.+\): check the endpoint and that the queue exists\n$/,
      ),
    });
  });
});
