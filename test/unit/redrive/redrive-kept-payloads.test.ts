/**
 * Redrive deletes a payload object only when no letter it keeps names it: not the letter it read,
 * not a letter the replay wrote again (the runtime reuses the key of the record's letter), not
 * another function's letter naming the same object.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, type ReplayedEvent } from '../../fixtures/redrive-fakes';

const QUEUE = 'http://127.0.0.1:1/000000000000/letters';
const POINTERS = 'http://127.0.0.1:1/000000000000/pointers';
const BUCKET = 'overflow';
const KEY = 'dead-letters/s/2026/11/23/s:1.json';
const LOCATION = `s3://${BUCKET}/${KEY}`;

/** A letter of `functionName` for record `s:1` whose payload overflowed to {@link KEY}. */
function overflowLetter(functionName: string, fields: Record<string, unknown> = {}) {
  const { data: _data, ...withoutData } = deadLetter('s', '1', { functionName, ...fields });
  return { ...withoutData, dataLocation: LOCATION };
}

/** Functions `fn` (main) and `fn-slow` (an isolated job) sharing the queue and the bucket. */
function account(): FakeAccount {
  const fake = new FakeAccount();
  const variables = {
    DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE,
    DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET,
  };
  fake.functions = [
    { name: 'fn', variables: { ...variables, DRIVERLESS_JOBS: '!slow' } },
    { name: 'fn-slow', variables: { ...variables, DRIVERLESS_JOBS: 'slow' } },
  ];
  fake.put(BUCKET, KEY, JSON.stringify(deadLetter('s', '1')));
  return fake;
}

/** The function dead-letters every replayed record again, as the runtime does: same key, new letter. */
function deadLettersAgain(event: ReplayedEvent, fake: FakeAccount): { FunctionError?: string } {
  const now = new Date().toISOString();
  fake.put(BUCKET, KEY, JSON.stringify(deadLetter('s', '1', { deadLetteredAt: now })));
  fake.send(QUEUE, overflowLetter(event.functionName, { deadLetteredAt: now, batchId: 'replay' }));
  return {};
}

describe('redrive keeps the payload objects its kept letters name', () => {
  it('keeps the object when the replay dead-letters the record again under the same key', async () => {
    // Given
    const fake = account();
    fake.send(QUEUE, overflowLetter('fn'));
    fake.respond = deadLettersAgain;

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      stillFailing: summary.stillFailing,
      deleted: summary.deleted,
      letters: fake.messages(QUEUE).map((m) => (m as { batchId: string }).batchId),
      objects: fake.keys(BUCKET),
    }).toEqual({ stillFailing: 1, deleted: 0, letters: ['b'], objects: [KEY] });
  });

  it('keeps the object a still-failing letter of another function names', async () => {
    // Given: both functions dead-lettered record s:1 to the same object; only fn-slow fails again
    const fake = account();
    fake.send(QUEUE, overflowLetter('fn'));
    fake.send(QUEUE, overflowLetter('fn-slow'));
    fake.respond = (event, self) =>
      event.functionName === 'fn-slow' ? deadLettersAgain(event, self) : {};

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      stillFailing: summary.stillFailing,
      letters: fake.messages(QUEUE).map((m) => (m as { functionName: string }).functionName),
      objects: fake.keys(BUCKET),
    }).toEqual({ recovered: 1, stillFailing: 1, letters: ['fn-slow'], objects: [KEY] });
  });

  it('keeps the object a letter of a function not redriven names', async () => {
    // Given: --job slow redrives fn-slow's letter; fn's letter names the same object
    const fake = account();
    fake.send(QUEUE, overflowLetter('fn'));
    fake.send(QUEUE, overflowLetter('fn-slow'));

    // When
    const summary = await redrive({ source: 'src', job: 'slow', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      letters: fake.messages(QUEUE).map((m) => (m as { functionName: string }).functionName),
      objects: fake.keys(BUCKET),
    }).toEqual({ recovered: 1, letters: ['fn'], objects: [KEY] });
  });

  it('keeps the letter the replay wrote for a record only an on-failure pointer named', async () => {
    // Given: record s:1 discarded by the mapping (a pointer, no payload of its own) and still
    // in the stream; the replay dead-letters it
    const fake = account();
    fake.functions = [
      {
        name: 'fn',
        variables: {
          DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE,
          DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET,
        },
        onFailure: ['arn:aws:sqs:us-east-1:000000000000:pointers'],
      },
    ];
    fake.buckets.set(BUCKET, new Map());
    fake.queues.set(QUEUE, new Map());
    fake.send(POINTERS, {
      timestamp: '2026-11-23T20:00:01.000Z',
      KinesisBatchInfo: {
        shardId: 's',
        startSequenceNumber: '1',
        endSequenceNumber: '1',
        batchSize: 1,
        streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
      },
    });
    fake.stream.set('s', [{ SequenceNumber: '1', Data: Buffer.from('{"n":1}') }]);
    fake.respond = deadLettersAgain;

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then: the new letter holds the only copy of the payload once the stream trims the record
    expect({
      stillFailing: summary.stillFailing,
      pointers: fake.messages(POINTERS).length,
      letters: fake.messages(QUEUE).map((m) => (m as { batchId: string }).batchId),
      objects: fake.keys(BUCKET),
    }).toEqual({ stillFailing: 1, pointers: 1, letters: ['replay'], objects: [KEY] });
  });
});
