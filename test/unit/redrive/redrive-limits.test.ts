/**
 * What a replay may send and touch: events under Lambda's synchronous invoke payload limit
 * (counted in bytes of the event JSON, base64 data included, not in records), and payload objects
 * only in the source's own dead-letter buckets.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';

/** Lambda's cap on a synchronous Invoke request. */
const SIX_MB = 6 * 1024 * 1024;
const BUCKET = 'overflow';
const FOREIGN = 'someone-elses-bucket';
const FOREIGN_KEY = 'dead-letters/s/2026/11/23/s:1.json';

function account(letters: readonly Record<string, unknown>[]): FakeAccount {
  const fake = new FakeAccount();
  fake.functions = [
    {
      name: 'fn',
      variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE, DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET },
    },
  ];
  fake.buckets.set(BUCKET, new Map());
  for (const letter of letters) fake.send(QUEUE, letter);
  return fake;
}

/** A letter for `s:<n>` carrying `bytes` bytes of record data. */
const bigLetter = (n: number, bytes: number) =>
  deadLetter('s', String(n), { data: Buffer.alloc(bytes, n).toString('base64') });

/** A letter for `s:1` whose payload overflowed to the foreign bucket. */
function foreignLetter(): Record<string, unknown> {
  const { data: _data, ...withoutData } = deadLetter('s', '1', { batchId: 'foreign' });
  return { ...withoutData, dataLocation: `s3://${FOREIGN}/${FOREIGN_KEY}` };
}

describe('redrive limits', () => {
  it('splits a shard into events under 6 MB, in order, however few records they hold', async () => {
    // Given: eight records of 900 KB (1.2 MB of base64 each), fewer than the batch size
    const fake = account(Array.from({ length: 8 }, (_, n) => bigLetter(n + 1, 900 * 1024)));

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      sequences: fake.invoked.flatMap((e) => e.Records.map((r) => r.kinesis.sequenceNumber)),
      invocations: fake.invoked.length,
      overLimit: fake.invokedBytes.filter((bytes) => bytes > SIX_MB),
    }).toEqual({
      recovered: 8,
      sequences: ['1', '2', '3', '4', '5', '6', '7', '8'],
      invocations: 2,
      overLimit: [],
    });
  });

  it('reports a record too large for any event as not recoverable, keeps its letter and replays the rest', async () => {
    // Given: a letter whose data alone is over the limit (no Kinesis record is)
    const fake = account([bigLetter(1, 10), bigLetter(2, 5 * 1024 * 1024), bigLetter(3, 10)]);

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      replayed: fake.invoked.flatMap((e) => e.Records.map((r) => r.kinesis.sequenceNumber)),
      notRecoverable: summary.notRecoverableIds,
      left: fake.messages(QUEUE).map((m) => (m as { sequenceNumber: string }).sequenceNumber),
    }).toEqual({
      replayed: ['1', '3'],
      notRecoverable: [
        expect.stringMatching(/^s:2 \(its event is \d+ bytes, over Lambda's 6291456-byte/),
      ],
      left: ['2'],
    });
  });

  it('does not read a payload outside the source’s dead-letter buckets, and keeps the letter', async () => {
    // Given
    const fake = account([foreignLetter()]);
    fake.put(FOREIGN, FOREIGN_KEY, JSON.stringify(deadLetter('s', '1')));

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      invoked: fake.invoked.length,
      notRecoverable: summary.notRecoverableIds,
      left: fake.messages(QUEUE).length,
      foreign: fake.keys(FOREIGN),
    }).toEqual({
      invoked: 0,
      notRecoverable: [
        `s:1 (dataLocation s3://${FOREIGN}/${FOREIGN_KEY} is outside the source's dead-letter buckets (${BUCKET}): not read)`,
      ],
      left: 1,
      foreign: [FOREIGN_KEY],
    });
  });

  it('does not delete an object outside the source’s buckets when its letter is deleted', async () => {
    // Given: the foreign letter duplicates a letter that carries the record
    const fake = account([deadLetter('s', '1'), foreignLetter()]);
    fake.put(FOREIGN, FOREIGN_KEY, '{}');

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      left: fake.messages(QUEUE).length,
      foreign: fake.keys(FOREIGN),
    }).toEqual({ recovered: 1, left: 0, foreign: [FOREIGN_KEY] });
  });

  it('does not read or delete an object outside the dead-letter prefix of its own bucket', async () => {
    // Given: a letter naming an object of the bucket the runtime never writes
    const { data: _data, ...withoutData } = deadLetter('s', '1');
    const fake = account([{ ...withoutData, dataLocation: `s3://${BUCKET}/config/settings.json` }]);
    fake.put(BUCKET, 'config/settings.json', JSON.stringify(deadLetter('s', '1')));

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      invoked: fake.invoked.length,
      notRecoverable: summary.notRecoverable,
      objects: fake.keys(BUCKET),
    }).toEqual({ invoked: 0, notRecoverable: 1, objects: ['config/settings.json'] });
  });
});
