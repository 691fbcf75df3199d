/**
 * A redrive stopped halfway (the function cannot be invoked) says in one line what it already
 * did: what it replayed and recovered is deleted, the rest is kept and visible for the next run.
 */
import { runRedrive } from '../../../cli/redrive/run-redrive';
import { deadLetter, FakeAccount, QUEUE } from '../../fixtures/redrive-fakes';
import { captureRedriveOutput } from '../../fixtures/redrive-output';

/** The error line: the last on stderr (the progress bar writes there before it). */
const errorLine = (stderr: string) => stderr.trimEnd().split('\n').at(-1);

/** Letters on two shards; invoking the function for shard `b` fails with `error`. */
function accountFailingOnShardB(error: string): FakeAccount {
  const fake = new FakeAccount();
  fake.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE } }];
  fake.send(QUEUE, deadLetter('a', '1'));
  fake.send(QUEUE, deadLetter('b', '2'));
  fake.respond = (event) => {
    if (event.Records.some((r) => r.kinesis.sequenceNumber === '2')) {
      throw Object.assign(new Error('Function not found: fn:live'), { name: error });
    }
    return {};
  };
  return fake;
}

describe('a redrive stopped halfway', () => {
  it('exits 2 with one line saying what it replayed, recovered and deleted', async () => {
    // Given
    const fake = accountFailingOnShardB('ResourceNotFoundException');
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'src' }, output, fake.clients());

    // Then
    expect({ code, error: errorLine(lines.stderr) }).toEqual({
      code: 2,
      error:
        'driverless redrive: cannot invoke fn:live (ResourceNotFoundException: Function not found: fn:live): ' +
        'stopped after replaying 1 of 2 records (1 recovered, 0 still failing, 1 message deleted); ' +
        'the 1 record not replayed and its messages are kept for the next run',
    });
  });

  it('deletes what it recovered and releases the rest at once', async () => {
    // Given
    const fake = accountFailingOnShardB('ResourceNotFoundException');
    const { output } = captureRedriveOutput();

    // When
    await runRedrive({ source: 'src' }, output, fake.clients());

    // Then
    expect({
      left: fake.messages(QUEUE).map((m) => (m as { shardId: string }).shardId),
      hidden: fake.hidden.size,
    }).toEqual({ left: ['b'], hidden: 0 });
  });

  it('exits 1 when the invoke failed for a reason the user cannot fix', async () => {
    // Given
    const fake = accountFailingOnShardB('ServiceException');
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'src' }, output, fake.clients());

    // Then
    expect({ code, error: errorLine(lines.stderr) }).toEqual({
      code: 1,
      error: expect.stringMatching(
        /^driverless redrive: cannot invoke fn:live \(ServiceException: .*\): stopped after replaying 1 of 2 records/,
      ),
    });
  });
});
