/**
 * S3 on-failure destinations: each object is the on-failure record plus `payload`, the
 * invocation event. Redrive replays the records of the payload, re-reads the stream for what the
 * payload lacks, and deletes the object once they are recovered.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { FakeAccount, onFailureObject, QUEUE } from '../../fixtures/redrive-fakes';

const BUCKET = 'failures';
const KEY = 'aws/lambda/uuid-1/s/2026/11/23/2026-11-23T20.00.01-r';

/** A source whose mapping discards to a bucket; `object` is the one on-failure object in it. */
function accountWithPointer(object: Record<string, unknown>): FakeAccount {
  const account = new FakeAccount();
  account.functions = [
    {
      name: 'fn',
      variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE },
      onFailure: [`arn:aws:s3:::${BUCKET}`],
    },
  ];
  account.send(QUEUE, 'not a letter');
  account.put(BUCKET, KEY, JSON.stringify(object), new Date('2026-11-23T20:00:02Z'));
  return account;
}

const replayed = (account: FakeAccount) =>
  account.invoked.map((e) => e.Records.map((r) => r.kinesis.sequenceNumber));

describe('redrive of S3 on-failure records', () => {
  it('replays the records of the payload without reading the stream and deletes the object', async () => {
    // Given
    const account = accountWithPointer(onFailureObject('s', ['1', '2']));

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      replayed: replayed(account),
      streamReads: account.streamReads,
      recovered: summary.recovered,
      deleted: summary.deleted,
      objects: account.keys(BUCKET),
    }).toEqual({ replayed: [['1', '2']], streamReads: [], recovered: 2, deleted: 1, objects: [] });
  });

  it('reads a payload written as a JSON object, as LocalStack writes it', async () => {
    // Given
    const account = accountWithPointer(onFailureObject('s', ['1', '2'], 'object'));

    // When
    await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({ replayed: replayed(account), streamReads: account.streamReads }).toEqual({
      replayed: [['1', '2']],
      streamReads: [],
    });
  });

  it('re-reads the range from the stream when the object has no payload', async () => {
    // Given
    const account = accountWithPointer(onFailureObject('s', ['1', '2'], 'none'));
    account.stream.set('s', [
      { SequenceNumber: '1', Data: Buffer.from('{"n":1}') },
      { SequenceNumber: '2', Data: Buffer.from('{"n":2}') },
    ]);

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      replayed: replayed(account),
      streamReads: account.streamReads,
      objects: account.keys(BUCKET),
    }).toEqual({ replayed: [['1', '2']], streamReads: ['s@1'], objects: [] });
    expect(summary.recovered).toBe(2);
  });

  it('keeps the object when its records are in neither the payload nor the stream', async () => {
    // Given: no payload, and the stream has trimmed the range
    const account = accountWithPointer(onFailureObject('s', ['1', '2'], 'none'));

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      notRecoverableIds: summary.notRecoverableIds,
      objects: account.keys(BUCKET),
    }).toEqual({
      notRecoverableIds: ['s:1..2 (2 of 2 records expired from the stream)'],
      objects: [KEY],
    });
  });

  it('keeps the object when a replayed record still fails', async () => {
    // Given
    const account = accountWithPointer(onFailureObject('s', ['1', '2']));
    account.respond = () => ({ FunctionError: 'Unhandled' });

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({ stillFailing: summary.stillFailing, objects: account.keys(BUCKET) }).toEqual({
      stillFailing: 2,
      objects: [KEY],
    });
  });

  it('fails if the on-failure bucket does not exist, before receiving any message', async () => {
    // Given
    const account = accountWithPointer(onFailureObject('s', ['1']));
    account.buckets.delete(BUCKET);

    // When
    const run = redrive({ source: 'src', clients: account.clients() });

    // Then
    await expect(run).rejects.toThrow(
      /^cannot read on-failure bucket failures \(NoSuchBucket: .*\): check the endpoint, that the bucket exists/,
    );
    expect(account.hidden.size).toBe(0);
  });
});
