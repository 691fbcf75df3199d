/**
 * What redrive says about what it read: the records per function and reason, with samples, and
 * progress bars that name what they are reading.
 */
import { redrive } from '../../../cli/redrive/redrive';
import type { RedriveProgress } from '../../../cli/redrive/redrive-progress';
import { runRedrive } from '../../../cli/redrive/run-redrive';
import { deadLetter, FakeAccount, onFailureObject, QUEUE } from '../../fixtures/redrive-fakes';
import { captureRedriveOutput } from '../../fixtures/redrive-output';

const BUCKET = 'failures';

function accountWithLetters(letters: readonly Record<string, unknown>[]): FakeAccount {
  const account = new FakeAccount();
  account.functions = [{ name: 'fn', variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE } }];
  for (const letter of letters) account.send(QUEUE, letter);
  return account;
}

describe('redrive reasons', () => {
  it('counts the records read per reason, most frequent first, with samples', async () => {
    // Given three letters for one reason and one for another
    const account = accountWithLetters([
      deadLetter('s', '1', { reason: 'invalid JSON: x' }),
      deadLetter('s', '2', { reason: 'invalid JSON: x' }),
      deadLetter('s', '3', { reason: 'invalid JSON: x' }),
      deadLetter('s', '4', { reason: 'schema: n must be a string' }),
    ]);

    // When
    const summary = await redrive({ source: 'src', dryRun: true, clients: account.clients() });

    // Then
    expect(summary.reasons).toStrictEqual([
      {
        functionName: 'fn',
        reason: 'invalid JSON: x',
        records: 3,
        samples: ['s:1 "{\\"n\\":1}"', 's:2 "{\\"n\\":2}"'],
      },
      {
        functionName: 'fn',
        reason: 'schema: n must be a string',
        records: 1,
        samples: ['s:4 "{\\"n\\":4}"'],
      },
    ]);
  });

  it("gives a discarded batch's records the mapping's on-failure condition as reason", async () => {
    // Given an S3 on-failure record of two records
    const account = new FakeAccount();
    account.functions = [
      {
        name: 'fn',
        variables: { DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE },
        onFailure: [`arn:aws:s3:::${BUCKET}`],
      },
    ];
    account.send(QUEUE, 'not a letter');
    account.put(
      BUCKET,
      'aws/lambda/uuid-1/s/2026/11/23/2026-11-23T20.00.01-r',
      JSON.stringify(onFailureObject('s', ['1', '2'])),
      new Date('2026-11-23T20:00:02Z'),
    );

    // When
    const summary = await redrive({ source: 'src', dryRun: true, clients: account.clients() });

    // Then
    expect(summary.reasons.map(({ reason, records }) => ({ reason, records }))).toStrictEqual([
      { reason: 'discarded by the mapping (RetryAttemptsExhausted)', records: 2 },
    ]);
  });

  it('prints the reasons and samples under the dry run summary', async () => {
    // Given
    const account = accountWithLetters([deadLetter('s', '1', { reason: 'invalid JSON: x' })]);
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'src', dryRun: true }, output, account.clients());

    // Then
    expect({ code, lines: lines.stdout.split('\n').slice(-5) }).toStrictEqual({
      code: 0,
      lines: [
        'would replay, by function and reason:',
        '  fn',
        '    1 × invalid JSON: x',
        '        e.g. s:1 "{\\"n\\":1}"',
        '',
      ],
    });
  });

  it('names what each progress report is reading', async () => {
    // Given
    const account = accountWithLetters([deadLetter('s', '1')]);
    const reports: RedriveProgress[] = [];

    // When
    await redrive({
      source: 'src',
      dryRun: true,
      clients: account.clients(),
      onProgress: (progress) => reports.push(progress),
    });

    // Then
    expect(reports.at(-1)).toStrictEqual({
      phase: 'reading',
      done: 1,
      total: 1,
      what: `dead letters in queue ${QUEUE.slice(QUEUE.lastIndexOf('/') + 1)}`,
      unit: 'messages',
    });
  });

  it('labels the progress bar with what it reads and its unit', async () => {
    // Given
    const account = accountWithLetters([deadLetter('s', '1')]);
    const { lines, output } = captureRedriveOutput();

    // When
    await runRedrive({ source: 'src', dryRun: true }, output, account.clients());

    // Then
    expect(lines.stderr).toBe(
      `reading dead letters in queue ${QUEUE.slice(QUEUE.lastIndexOf('/') + 1)} [##############################] 1/1 messages\n`,
    );
  });
});
