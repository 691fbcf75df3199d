/**
 * What a redrive deletes and releases once the replay is done: a recovered letter's message is
 * deleted and not released, a message whose delete failed stays and is not counted.
 */
import { redrive } from '../../../cli/redrive/redrive';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';

/** A source whose function dead-letters to {@link QUEUE}, holding one letter per sequence number. */
function accountWithLetters(...sequenceNumbers: string[]): FakeAccount {
  const fake = new FakeAccount();
  fake.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE } }];
  for (const sequenceNumber of sequenceNumbers) fake.send(QUEUE, deadLetter('s', sequenceNumber));
  return fake;
}

describe('redrive deletes', () => {
  it('does not release the messages it deleted', async () => {
    // Given
    const fake = accountWithLetters('1', '2');

    // When
    await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({ left: fake.messages(QUEUE), released: fake.released }).toStrictEqual({
      left: [],
      released: [],
    });
  });

  it('does not count a recovered letter whose delete failed, and releases it', async () => {
    // Given: SQS refuses to delete the first letter (h0)
    const fake = accountWithLetters('1', '2');
    fake.failDeletes.add('h0');

    // When
    const summary = await redrive({ source: 'src', clients: fake.clients() });

    // Then
    expect({
      recovered: summary.recovered,
      deleted: summary.deleted,
      left: fake.messages(QUEUE).length,
      released: fake.released,
    }).toStrictEqual({ recovered: 2, deleted: 1, left: 1, released: ['h0'] });
  });
});
