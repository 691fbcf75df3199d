/**
 * Dead letters in a bucket (`DRIVERLESS_DEAD_LETTER_BUCKET` without a queue): one NDJSON object
 * per batch. Redrive replays the letters and deletes an object only when all of them recovered.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { runRedrive } from '../../../cli/redrive/run-redrive';
import { deadLetter, FakeAccount } from '../../fixtures/redrive-fakes';
import { captureRedriveOutput } from '../../fixtures/redrive-output';

const BUCKET = 'letters';
const KEY = 'dead-letters/s/2026/11/23/b-1.ndjson';
const WRITTEN = new Date('2026-11-23T20:00:02Z');

const ndjson = (letters: readonly Record<string, unknown>[]) =>
  `${letters.map((l) => JSON.stringify(l)).join('\n')}\n`;

/** A source with a main function and an isolated job's function sharing one dead-letter bucket. */
function accountWithBucket(letters: readonly Record<string, unknown>[]): FakeAccount {
  const account = new FakeAccount();
  account.functions = [
    { name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET, DRIVERLESS_JOBS: '!slow' } },
    {
      name: 'fn-slow',
      variables: { DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET, DRIVERLESS_JOBS: 'slow' },
    },
  ];
  account.put(BUCKET, KEY, ndjson(letters), WRITTEN);
  return account;
}

describe('redrive of dead letters in S3', () => {
  it('replays the letters of an object and deletes it when all recovered', async () => {
    // Given
    const account = accountWithBucket([deadLetter('s', '1'), deadLetter('s', '2')]);

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      invoked: account.invoked.map((e) => e.Records.map((r) => r.kinesis.sequenceNumber)),
      messages: summary.messages,
      recovered: summary.recovered,
      deleted: summary.deleted,
      objects: account.keys(BUCKET),
    }).toEqual({ invoked: [['1', '2']], messages: 2, recovered: 2, deleted: 2, objects: [] });
  });

  it('keeps the object when one of its letters still fails', async () => {
    // Given
    const account = accountWithBucket([deadLetter('s', '1'), deadLetter('s', '2')]);
    account.respond = () => ({ body: { batchItemFailures: [{ itemIdentifier: '2' }] } });

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      stillFailing: summary.stillFailing,
      objects: account.keys(BUCKET),
    }).toEqual({ recovered: 1, stillFailing: 1, objects: [KEY] });
  });

  it('replays only the letters of the selected job and keeps an object holding others', async () => {
    // Given: one object with a letter of each function
    const account = accountWithBucket([
      deadLetter('s', '1'),
      deadLetter('s', '2', { functionName: 'fn-slow' }),
    ]);

    // When
    const summary = await redrive({ source: 'src', job: 'slow', clients: account.clients() });

    // Then
    expect({
      invoked: account.invoked.map((e) => [
        e.functionName,
        e.Records.map((r) => r.kinesis.sequenceNumber),
      ]),
      recovered: summary.recovered,
      objects: account.keys(BUCKET),
    }).toEqual({ invoked: [['fn-slow', ['2']]], recovered: 1, objects: [KEY] });
  });

  it('skips objects written before --since', async () => {
    // Given
    const account = accountWithBucket([deadLetter('s', '1')]);

    // When
    const summary = await redrive({
      source: 'src',
      since: new Date('2026-11-23T21:00:00Z'),
      clients: account.clients(),
    });

    // Then
    expect({ messages: summary.messages, invoked: account.invoked.length }).toEqual({
      messages: 0,
      invoked: 0,
    });
  });

  it('counts a record dead-lettered again as failing, keeping the original and not the copy', async () => {
    // Given: the function dead-letters the replayed record again, into a new object
    const account = accountWithBucket([deadLetter('s', '1')]);
    const copy = 'dead-letters/s/2026/11/24/c-1.ndjson';
    account.respond = (_event, fake) => {
      fake.put(
        BUCKET,
        copy,
        ndjson([deadLetter('s', '1', { batchId: 'c', deadLetteredAt: new Date().toISOString() })]),
      );
      return {};
    };

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      stillFailing: summary.stillFailing,
      objects: account.keys(BUCKET),
    }).toEqual({ recovered: 0, stillFailing: 1, objects: [KEY] });
  });

  it('fails if the dead-letter bucket does not exist, with exit 2 and what to check', async () => {
    // Given
    const account = accountWithBucket([]);
    account.buckets.delete(BUCKET);
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'src' }, output, account.clients());

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: `driverless redrive: cannot read dead-letter bucket ${BUCKET} (NoSuchBucket: The specified bucket does not exist): check the endpoint, that the bucket exists and that you may list and read it (s3:ListBucket, s3:GetObject)\n`,
    });
  });
});
