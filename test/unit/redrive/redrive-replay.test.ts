/**
 * How redrive treats a function's response, against the in-memory account: the ESM's rules (an
 * error fails the whole chunk; a reported item fails it and everything after it in the shard),
 * deduplication of letters, and deletion of only what was recovered.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, type InvokeAnswer, QUEUE } from '../../fixtures/redrive-fakes';

/** One function with a dead-letter queue holding `letters`, answering each Invoke with `answer`. */
function accountWith(
  letters: readonly Record<string, unknown>[],
  answer: InvokeAnswer = {},
  variables: Record<string, string> = {},
): FakeAccount {
  const account = new FakeAccount();
  account.functions = [
    { name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE, ...variables } },
  ];
  for (const letter of letters) account.send(QUEUE, letter);
  account.respond = () => answer;
  return account;
}

/** Sequence numbers of each replayed event, in invocation order. */
const invokedSequences = (account: FakeAccount) =>
  account.invoked.map((event) => event.Records.map((r) => r.kinesis.sequenceNumber));

/** Sequence numbers of the letters still in the queue. */
const keptSequences = (account: FakeAccount) =>
  account.messages(QUEUE).map((letter) => (letter as { sequenceNumber: string }).sequenceNumber);

describe('redrive replay', () => {
  it('replays one event per shard, records in sequence order, duplicates once', async () => {
    // Given: letters out of order, one of them twice
    const account = accountWith([
      deadLetter('shard-1', '30'),
      deadLetter('shard-1', '10'),
      deadLetter('shard-2', '5'),
      deadLetter('shard-1', '10'),
    ]);

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      invoked: invokedSequences(account),
      recovered: summary.recovered,
      kept: keptSequences(account),
    }).toEqual({ invoked: [['10', '30'], ['5']], recovered: 3, kept: [] });
  });

  it('keeps the reported record and everything after it in its shard', async () => {
    // Given
    const account = accountWith(
      [deadLetter('s', '1'), deadLetter('s', '2'), deadLetter('s', '3')],
      {
        body: { batchItemFailures: [{ itemIdentifier: '2' }] },
      },
    );

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      stillFailing: summary.stillFailing,
      kept: keptSequences(account),
    }).toEqual({ recovered: 1, stillFailing: 2, kept: ['2', '3'] });
  });

  it('keeps the whole chunk and stops the shard when the function fails', async () => {
    // Given
    const account = accountWith(
      [deadLetter('s', '1'), deadLetter('s', '2'), deadLetter('s', '3')],
      {
        FunctionError: 'Unhandled',
        body: { errorMessage: 'boom' },
      },
    );

    // When
    const summary = await redrive({ source: 'src', batchSize: 2, clients: account.clients() });

    // Then
    expect({
      invoked: invokedSequences(account),
      stillFailing: summary.stillFailing,
      kept: keptSequences(account),
    }).toEqual({ invoked: [['1', '2']], stillFailing: 3, kept: ['1', '2', '3'] });
  });

  it('keeps the whole chunk when the response lists failures in a malformed way, as the mapping does', async () => {
    // Given: batchItemFailures that is not a list
    const account = accountWith(
      [deadLetter('s', '1'), deadLetter('s', '2'), deadLetter('s', '3')],
      { body: { batchItemFailures: { itemIdentifier: '2' } } },
    );

    // When
    const summary = await redrive({ source: 'src', batchSize: 2, clients: account.clients() });

    // Then
    expect({
      invoked: invokedSequences(account),
      stillFailing: summary.stillFailing,
      kept: keptSequences(account),
    }).toEqual({ invoked: [['1', '2']], stillFailing: 3, kept: ['1', '2', '3'] });
  });

  it('invokes and deletes nothing in a dry run', async () => {
    // Given
    const account = accountWith([deadLetter('s', '1')]);

    // When
    const summary = await redrive({ source: 'src', dryRun: true, clients: account.clients() });

    // Then
    expect({
      records: summary.records,
      invoked: invokedSequences(account),
      kept: keptSequences(account),
    }).toEqual({ records: 1, invoked: [], kept: ['1'] });
  });

  it('skips letters written before --since', async () => {
    // Given: the letter was written at 20:00:01
    const account = accountWith([deadLetter('s', '1')]);

    // When
    const summary = await redrive({
      source: 'src',
      since: new Date('2026-11-23T21:00:00Z'),
      clients: account.clients(),
    });

    // Then
    expect({ messages: summary.messages, invoked: invokedSequences(account) }).toEqual({
      messages: 0,
      invoked: [],
    });
  });

  it('keeps a message that is not a dead letter (its sequence number is not decimal) and replays the rest', async () => {
    // Given
    const account = accountWith([deadLetter('s', 'not-a-number'), deadLetter('s', '7')]);

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({
      invoked: invokedSequences(account),
      recovered: summary.recovered,
      kept: keptSequences(account),
    }).toEqual({ invoked: [['7']], recovered: 1, kept: ['not-a-number'] });
  });

  it('fails if batchSize is out of range', async () => {
    // Given
    const account = accountWith([]);

    // When / Then
    await expect(
      redrive({ source: 'src', batchSize: 0, clients: account.clients() }),
    ).rejects.toThrow('batchSize must be between 1 and 10000 (given 0)');
  });

  it('recovers from a function with per-job cursors, whose runtime bypasses them on a replay', async () => {
    // Given
    const account = accountWith(
      [deadLetter('s', '1')],
      {},
      {
        DRIVERLESS_CHECKPOINT_TABLE: 'cursors',
      },
    );

    // When
    const summary = await redrive({ source: 'src', clients: account.clients() });

    // Then
    expect({ recovered: summary.recovered, kept: keptSequences(account) }).toEqual({
      recovered: 1,
      kept: [],
    });
  });
});
