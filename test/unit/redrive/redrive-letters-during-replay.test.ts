/**
 * Letters the function writes while redrive replays, for records redrive did not replay (another
 * batch of the live stream): they are not copies of what redrive holds, so they stay.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';

const BUCKET = 'letters';
const NEW_KEY = 'dead-letters/s/2026/11/23/live.ndjson';

/** A letter the live function writes now, for record `s:99`, which redrive does not replay. */
const liveLetter = () => deadLetter('s', '99', { deadLetteredAt: new Date().toISOString() });

describe('redrive and letters written during the replay', () => {
  it('keeps and releases a queued letter of a record it did not replay', async () => {
    // Given: one letter to replay; during the replay the function dead-letters another record
    const fake = new FakeAccount();
    fake.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE } }];
    fake.send(QUEUE, deadLetter('s', '1'));
    fake.respond = (_event, account) => {
      account.send(QUEUE, liveLetter());
      return {};
    };

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      left: fake.messages(QUEUE).map((letter) => (letter as { id: string }).id),
      hidden: fake.hidden.size,
    }).toStrictEqual({ recovered: 1, left: ['s:99'], hidden: 0 });
  });

  it('keeps a new dead-letter object holding a letter of a record it did not replay', async () => {
    // Given: one letter to replay in the bucket; during the replay the function writes an object
    // with a letter of another record
    const fake = new FakeAccount();
    fake.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET } }];
    fake.put(
      BUCKET,
      'dead-letters/s/2026/11/23/b-1.ndjson',
      `${JSON.stringify(deadLetter('s', '1'))}\n`,
      new Date('2026-11-23T20:00:02Z'),
    );
    fake.respond = (_event, account) => {
      account.put(BUCKET, NEW_KEY, `${JSON.stringify(liveLetter())}\n`);
      return {};
    };

    // When
    await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect(fake.keys(BUCKET)).toStrictEqual([NEW_KEY]);
  });

  it('releases a letter the replay wrote again when SQS refuses to delete it', async () => {
    // Given: the replayed record is dead-lettered again (h1), and SQS refuses to delete that copy
    const fake = new FakeAccount();
    fake.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE } }];
    fake.send(QUEUE, deadLetter('s', '1'));
    fake.failDeletes.add('h1');
    fake.respond = (_event, account) => {
      account.send(QUEUE, deadLetter('s', '1', { deadLetteredAt: new Date().toISOString() }));
      return {};
    };

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      stillFailing: summary.stillFailing,
      left: fake.messages(QUEUE).length,
      hidden: fake.hidden.size,
    }).toStrictEqual({ stillFailing: 1, left: 2, hidden: 0 });
  });
});
