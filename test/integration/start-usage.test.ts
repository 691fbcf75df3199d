import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const START = join(__dirname, '../../example/start.ts');

/** Runs `npm start -- <args>` as npm does (tsx), without npm's own banner. */
function start(...args: string[]): { status: number | null; lines: string[] } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', START, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: run.status, lines: `${run.stdout}${run.stderr}`.split('\n').filter(Boolean) };
}

describe('npm start usage errors', () => {
  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--records', 'abc'], '--records must be a positive whole number (given abc)'],
    [['--rate=-1'], '--rate must be a number of records per second, 0 or more (given -1)'],
    [['--rate', 'fast'], '--rate must be a number of records per second, 0 or more (given fast)'],
    [['--engine', 'foo'], '--engine must be kinesalite or kinesis-local (given foo)'],
    [['--records'], "Option '--records <value>' argument missing"],
    [['extra'], "Unexpected argument 'extra'"],
  ])('fails if given %j, in one line with exit 2', (args, problem) => {
    // when
    const { status, lines } = start(...args);

    // then
    expect({ status, lines: lines.length }).toStrictEqual({ status: 2, lines: 1 });
    expect(lines[0]).toContain(`npm start: ${problem}`);
  });
});
