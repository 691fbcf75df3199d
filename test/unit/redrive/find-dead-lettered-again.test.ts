/**
 * Which letters written during a replay redrive takes for new failures of the records it replayed,
 * which of them it deletes as copies, and which payload locations it reports kept or deleted.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  type DeadLetteredAgain,
  findDeadLetteredAgain,
} from '../../../cli/redrive/find-dead-lettered-again';
import { type ReplayRecord, recordKey } from '../../../cli/redrive/replay-set';
import { deadLetter, FakeAccount, QUEUE, STREAM } from '../../fixtures/redrive-fakes';

const STARTED_AT = Date.parse('2026-11-23T21:00:00.000Z');
const BUCKET = 'letters';
const NEW_KEY = 'dead-letters/s/2026/11/23/fn/replay-1.ndjson';
const LOCATION = 's3://overflow/dead-letters/s/2026/11/23/s:1.json';

/**
 * Record `s:1` of `fn` as the replay left it (recovered unless a new letter says otherwise);
 * `inLetter` false when only an on-failure pointer named it.
 */
function replayed(fields: { inLetter?: boolean; subSequenceNumber?: number } = {}): ReplayRecord {
  const { inLetter = true, subSequenceNumber } = fields;
  return {
    key: recordKey('fn', 's', '1', subSequenceNumber),
    functionName: 'fn',
    shardId: 's',
    streamArn: STREAM,
    sequenceNumber: '1',
    subSequenceNumber,
    partitionKey: 'k',
    data: Buffer.from('{"n":1}').toString('base64'),
    approximateArrivalTimestamp: 1_795_000_000.5,
    outcome: 'recovered',
    inLetter,
  };
}

/** A letter of record `s:1` stamped when the replay started (or as `fields` say). */
function letterOfReplay(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return deadLetter('s', '1', { deadLetteredAt: new Date(STARTED_AT).toISOString(), ...fields });
}

/** The same letter with its payload overflowed to {@link LOCATION}. */
function overflowLetterOfReplay(): Record<string, unknown> {
  const { data: _data, ...withoutData } = letterOfReplay();
  return { ...withoutData, dataLocation: LOCATION };
}

function find(
  fake: FakeAccount,
  record: ReplayRecord,
  options: { buckets?: Map<string, ReadonlySet<string>>; sqs?: SQSClient; s3?: S3Client } = {},
): Promise<DeadLetteredAgain> {
  if (!fake.queues.has(QUEUE)) fake.queues.set(QUEUE, new Map());
  const clients = fake.clients();
  return findDeadLetteredAgain({
    sqs: options.sqs ?? clients.sqs,
    s3: options.s3 ?? clients.s3,
    queueUrls: [QUEUE],
    buckets: options.buckets ?? new Map(),
    records: new Map([[record.key, record]]),
    startedAt: STARTED_AT,
    visibilityTimeoutSeconds: 30,
    // As redrive reads letters: the function a letter names, else the source's main function.
    functionOf: (letter) => ({ name: letter.functionName ?? 'fn' }),
  });
}

describe('findDeadLetteredAgain in a queue', () => {
  it('takes a letter stamped one second before the replay started for a new failure', async () => {
    // Given: the function's clock runs a second behind the one that timed the replay's start
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay({ deadLetteredAt: new Date(STARTED_AT - 1000).toISOString() }));
    const record = replayed();

    // When
    await find(fake, record);

    // Then
    expect(record.outcome).toBe('failing');
  });

  it('does not take a letter stamped before the replay for a new failure, nor delete it', async () => {
    // Given: a letter of the record from before the replay, visible again (its visibility timeout
    // ran out during a long replay)
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay({ deadLetteredAt: new Date(STARTED_AT - 1001).toISOString() }));
    const record = replayed();

    // When
    await find(fake, record);

    // Then
    expect({ outcome: record.outcome, left: fake.messages(QUEUE).length }).toStrictEqual({
      outcome: 'recovered',
      left: 1,
    });
  });

  it("takes a letter that names no function for a new failure of the record replayed through the source's main function", async () => {
    // Given: a runtime that did not know its function name (no AWS_LAMBDA_FUNCTION_NAME)
    const fake = new FakeAccount();
    const { functionName: _functionName, ...letter } = letterOfReplay();
    fake.send(QUEUE, letter);
    const record = replayed();

    // When
    await find(fake, record);

    // Then
    expect(record.outcome).toBe('failing');
  });

  it("takes a sub-record's letter for a new failure of the record its pointer named", async () => {
    // Given: an on-failure pointer named the whole aggregate s:1; the replay dead-letters its
    // sub-record 2
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay({ subSequenceNumber: 2 }));
    const record = replayed({ inLetter: false });

    // When
    await find(fake, record);

    // Then
    expect(record.outcome).toBe('failing');
  });

  it('keeps and releases a message that is not JSON', async () => {
    // Given
    const fake = new FakeAccount();
    fake.send(QUEUE, 'not a letter');

    // When
    const again = await find(fake, replayed());

    // Then
    expect({ again, left: fake.queues.get(QUEUE)?.size, released: fake.released }).toStrictEqual({
      again: { deletedLocations: [], keptLocations: [] },
      left: 1,
      released: ['h0'],
    });
  });

  it('neither deletes nor releases a message without a receipt handle', async () => {
    // Given: a copy of the replayed record's letter received without a receipt handle
    const fake = new FakeAccount();
    fake.send(QUEUE, overflowLetterOfReplay());
    const real = fake.clients().sqs;
    const entries: unknown[] = [];
    const sqs = {
      send: async (command: { input: { Entries?: unknown[] } }) => {
        entries.push(...(command.input.Entries ?? []));
        const out = (await real.send(command as never)) as { Messages?: object[] };
        return out.Messages
          ? {
              Messages: out.Messages.map(
                ({ ReceiptHandle: _h, ...message }: object & { ReceiptHandle?: string }) => message,
              ),
            }
          : out;
      },
    } as unknown as SQSClient;

    // When
    await find(fake, replayed(), { sqs });

    // Then
    expect(entries).toStrictEqual([]);
  });

  it('reports the payload location of a copy it deleted', async () => {
    // Given: the replay dead-letters again a record a letter read before holds
    const fake = new FakeAccount();
    fake.send(QUEUE, overflowLetterOfReplay());

    // When
    const again = await find(fake, replayed());

    // Then
    expect({ again, left: fake.messages(QUEUE).length }).toStrictEqual({
      again: { deletedLocations: [LOCATION], keptLocations: [] },
      left: 0,
    });
  });

  it('reports the payload location of a copy SQS refused to delete as kept', async () => {
    // Given
    const fake = new FakeAccount();
    fake.send(QUEUE, overflowLetterOfReplay());
    fake.failDeletes.add('h0');

    // When
    const again = await find(fake, replayed());

    // Then
    expect(again).toStrictEqual({ deletedLocations: [], keptLocations: [LOCATION] });
  });

  it('reports no payload location for a copy whose payload is in the letter', async () => {
    // Given
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay());

    // When
    const again = await find(fake, replayed());

    // Then
    expect(again).toStrictEqual({ deletedLocations: [], keptLocations: [] });
  });

  it('does not release a copy it deleted', async () => {
    // Given
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay());

    // When
    await find(fake, replayed());

    // Then
    expect(fake.released).toStrictEqual([]);
  });

  it('reports the payload location of a new letter it keeps as kept', async () => {
    // Given: only an on-failure pointer named the record, so its new letter is kept
    const fake = new FakeAccount();
    fake.send(QUEUE, overflowLetterOfReplay());

    // When
    const again = await find(fake, replayed({ inLetter: false }));

    // Then
    expect({ again, left: fake.messages(QUEUE).length }).toStrictEqual({
      again: { deletedLocations: [], keptLocations: [LOCATION] },
      left: 1,
    });
  });

  it('reports no payload location for a kept letter whose payload is in the letter', async () => {
    // Given
    const fake = new FakeAccount();
    fake.send(QUEUE, letterOfReplay());

    // When
    const again = await find(fake, replayed({ inLetter: false }));

    // Then
    expect(again).toStrictEqual({ deletedLocations: [], keptLocations: [] });
  });
});

describe('findDeadLetteredAgain in a bucket', () => {
  const written = new Date(STARTED_AT + 2000);
  const listedBefore = () => new Map<string, ReadonlySet<string>>([[BUCKET, new Set()]]);

  it('leaves an object written before the replay alone', async () => {
    // Given: an object last written well before the replay, not listed before it, whose letter
    // is stamped after the start (the function's clock runs ahead)
    const fake = new FakeAccount();
    fake.put(BUCKET, NEW_KEY, `${JSON.stringify(letterOfReplay())}\n`, new Date(STARTED_AT - 5000));
    const record = replayed();

    // When
    await find(fake, record, { buckets: listedBefore() });

    // Then
    expect({ outcome: record.outcome, keys: fake.keys(BUCKET) }).toStrictEqual({
      outcome: 'recovered',
      keys: [NEW_KEY],
    });
  });

  it('deletes a copy object whose letters are separated by blank lines', async () => {
    // Given: the replay's object holds two copies with a line of spaces between them
    const fake = new FakeAccount();
    const line = JSON.stringify(letterOfReplay());
    fake.put(BUCKET, NEW_KEY, `${line}\n  \n${line}\n`, written);

    // When
    await find(fake, replayed(), { buckets: listedBefore() });

    // Then
    expect(fake.keys(BUCKET)).toStrictEqual([]);
  });

  it('skips an object deleted between listing and reading', async () => {
    // Given: the listing names a copy object someone deletes before redrive reads it
    const fake = new FakeAccount();
    fake.put(BUCKET, NEW_KEY, `${JSON.stringify(letterOfReplay())}\n`, written);
    const real = fake.clients().s3;
    const s3 = {
      send: async (command: { constructor: { name: string } }) => {
        if (command.constructor.name === 'GetObjectCommand') fake.buckets.get(BUCKET)?.clear();
        return real.send(command as never);
      },
    } as unknown as S3Client;
    const record = replayed();

    // When
    await find(fake, record, { buckets: listedBefore(), s3 });

    // Then
    expect(record.outcome).toBe('recovered');
  });

  it('keeps an empty object written during the replay', async () => {
    // Given
    const fake = new FakeAccount();
    fake.put(BUCKET, NEW_KEY, '', written);

    // When
    await find(fake, replayed(), { buckets: listedBefore() });

    // Then
    expect(fake.keys(BUCKET)).toStrictEqual([NEW_KEY]);
  });
});
