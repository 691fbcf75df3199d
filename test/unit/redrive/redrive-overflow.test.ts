/**
 * SQS dead letters too large for one message: the letter carries `dataLocation` and its payload
 * sits in S3. Redrive fetches it, replays it, and deletes the message and the object together.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { RedriveUsageError } from '../../../cli/redrive/redrive-error';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';

const BUCKET = 'overflow';
const KEY = 'dead-letters/s/2026/11/23/s:1.json';

/** A source whose function has a dead-letter queue with the bucket as overflow. */
function accountWithOverflowLetter(): FakeAccount {
  const account = new FakeAccount();
  account.functions = [
    {
      name: 'fn',
      variables: {
        DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE,
        DRIVERLESS_DEAD_LETTER_BUCKET: BUCKET,
      },
    },
  ];
  const { data: _data, ...withoutData } = deadLetter('s', '1');
  account.put(BUCKET, KEY, JSON.stringify(deadLetter('s', '1')));
  account.send(QUEUE, { ...withoutData, dataLocation: `s3://${BUCKET}/${KEY}` });
  return account;
}

describe('redrive of letters that overflowed to S3', () => {
  it('replays the payload from S3 and deletes the message and the object', async () => {
    // Given
    const account = accountWithOverflowLetter();

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      replayed: account.invoked.map((e) => e.Records.map((r) => r.kinesis.data)),
      recovered: summary.recovered,
      deleted: summary.deleted,
      messages: account.messages(QUEUE),
      objects: account.keys(BUCKET),
    }).toEqual({
      replayed: [[Buffer.from('{"n":1}').toString('base64')]],
      recovered: 1,
      deleted: 1,
      messages: [],
      objects: [],
    });
  });

  it('keeps the message and the object when the record fails again', async () => {
    // Given
    const account = accountWithOverflowLetter();
    account.respond = () => ({ FunctionError: 'Unhandled' });

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      stillFailing: summary.stillFailing,
      messages: account.messages(QUEUE).length,
      objects: account.keys(BUCKET),
    }).toEqual({ stillFailing: 1, messages: 1, objects: [KEY] });
  });

  it('reports a letter whose payload object is gone as not recoverable and keeps it', async () => {
    // Given
    const account = accountWithOverflowLetter();
    account.buckets.get(BUCKET)?.delete(KEY);

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      invoked: account.invoked.length,
      notRecoverableIds: summary.notRecoverableIds,
      messages: account.messages(QUEUE).length,
    }).toEqual({
      invoked: 0,
      notRecoverableIds: [`s:1 (payload s3://${BUCKET}/${KEY} is gone (NoSuchKey))`],
      messages: 1,
    });
  });

  it('reads the payload in a dry run and deletes nothing', async () => {
    // Given
    const account = accountWithOverflowLetter();

    // When
    const summary = await redrive({ source: 'src', dryRun: true, clients: account.clients() });

    // Then
    expect({
      records: summary.records,
      notRecoverable: summary.notRecoverable,
      invoked: account.invoked.length,
      messages: account.messages(QUEUE).length,
      objects: account.keys(BUCKET),
    }).toEqual({ records: 1, notRecoverable: 0, invoked: 0, messages: 1, objects: [KEY] });
  });

  it('fails if the payload bucket does not exist, and releases the letters it received', async () => {
    // Given
    const account = accountWithOverflowLetter();
    account.buckets.delete(BUCKET);

    // When
    const run = redrive({ source: 'src', clients: account.clients() });

    // Then
    await expect(run).rejects.toThrow(
      new RedriveUsageError(
        `cannot read dead-letter payload s3://${BUCKET}/${KEY} (NoSuchBucket: The specified bucket does not exist): check the endpoint, that the bucket exists and that you may list and read it (s3:ListBucket, s3:GetObject)`,
      ),
    );
    expect({ messages: account.messages(QUEUE).length, hidden: account.hidden.size }).toEqual({
      messages: 1,
      hidden: 0,
    });
  });
});
