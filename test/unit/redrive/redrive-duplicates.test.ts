/**
 * A record dead-lettered twice (a retried batch, a letter delivered twice) is one record: redrive
 * knows it by (function, shard, sequence number, sub-sequence number), whatever the letters' ids
 * or keys, replays it once and deletes every letter naming it once it is recovered.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';

const BUCKET = 'overflow';

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

const replayedRecords = (fake: FakeAccount) => fake.invoked.flatMap((event) => event.Records);

describe('redrive of duplicate letters', () => {
  it('replays a record once when its letters carry different ids', async () => {
    // Given: the same record, once with a legacy id and once with a deterministic letter id
    const fake = account([
      deadLetter('s', '1', { id: 's:1' }),
      deadLetter('s', '1', { id: 'fn/s/1/-', batchId: 'retry' }),
    ]);

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      replayed: replayedRecords(fake).length,
      records: summary.records,
      deleted: summary.deleted,
      left: fake.messages(QUEUE),
    }).toEqual({ replayed: 1, records: 1, deleted: 2, left: [] });
  });

  it('replays sub-records of one aggregate once each', async () => {
    // Given: two sub-records of one KPL aggregate, the second dead-lettered twice
    const fake = account([
      deadLetter('s', '1', { subSequenceNumber: 0 }),
      deadLetter('s', '1', { subSequenceNumber: 1 }),
      deadLetter('s', '1', { subSequenceNumber: 1, batchId: 'retry' }),
    ]);

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({ replayed: replayedRecords(fake).length, records: summary.records }).toEqual({
      replayed: 2,
      records: 2,
    });
  });

  it('deletes a duplicate whose payload is gone once another letter of the record recovers it', async () => {
    // Given: the record's second letter names a payload object that is gone
    const { data: _data, ...withoutData } = deadLetter('s', '1', { batchId: 'retry' });
    const fake = account([
      deadLetter('s', '1'),
      { ...withoutData, dataLocation: `s3://${BUCKET}/dead-letters/s/2026/11/23/gone.json` },
    ]);

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      notRecoverable: summary.notRecoverableIds,
      left: fake.messages(QUEUE),
    }).toEqual({ recovered: 1, notRecoverable: [], left: [] });
  });

  it('keeps every letter of a record that still fails', async () => {
    // Given
    const fake = account([deadLetter('s', '1'), deadLetter('s', '1', { batchId: 'retry' })]);
    fake.respond = () => ({ FunctionError: 'Unhandled' });

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      replayed: replayedRecords(fake).length,
      stillFailing: summary.stillFailing,
      left: fake.messages(QUEUE).length,
    }).toEqual({ replayed: 1, stillFailing: 1, left: 2 });
  });
});
