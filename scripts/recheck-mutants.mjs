// Re-checks by hand the mutants a Stryker run did not see killed: `npm run test:mutation:recheck --
// <file> [test path...]`. Stryker counts a mutant that timed out as detected, and in the runtime's
// biggest files most of its timeouts were mutants the tests let through. Each mutant the last report
// (reports/mutation/mutation.json) marks Timeout, Survived or NoCoverage is written into the file
// alone, the tests run, and the file is restored (also on Ctrl-C).
//
// Default tests: the runtime's unit tests. Exit 1 when a mutant survives, 2 on bad input. POSIX only:
// a hung run is killed with its process group.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const REPORT = join(ROOT, 'reports', 'mutation', 'mutation.json');
const RECHECKED = new Set(['Timeout', 'Survived', 'NoCoverage']);
/** Far above the runtime tests' few seconds: a mutant that takes this long hangs. */
const HANG_MS = 120_000;
/** jest's own entry, run with this Node: `npx` would add its start-up to every mutant. */
const JEST = createRequire(import.meta.url).resolve('jest/bin/jest');

function fail(message) {
  process.stderr.write(`recheck-mutants: ${message}\n`);
  process.exit(2);
}

const [file, ...testPaths] = process.argv.slice(2);
if (!file) fail('usage: npm run test:mutation:recheck -- <file> [test path...]');
if (!existsSync(REPORT)) fail(`no report at ${REPORT}: run \`npm run test:mutation\` first`);
const entry = JSON.parse(readFileSync(REPORT, 'utf8')).files[file];
if (!entry) fail(`${REPORT} has no mutants of ${file}`);
const path = join(ROOT, file);
const source = readFileSync(path, 'utf8');
if (source !== entry.source)
  fail(`${file} changed since the report was written: run Stryker again`);

/** Offset of a report position (line and column, both from 1) in `source`. */
const lineStarts = [0];
for (let i = 0; i < source.length; i++) if (source[i] === '\n') lineStarts.push(i + 1);
const offsetOf = ({ line, column }) => lineStarts[line - 1] + column - 1;

const restore = () => writeFileSync(path, source);
/** The process group of the test run under way: jest and its workers. */
let running;
/** Kills a whole test run: a mutant that loops keeps jest's workers busy after jest is gone. */
const killRun = (pid) => {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
};
process.on('SIGINT', () => {
  if (running !== undefined) killRun(running);
  restore();
  process.exit(130);
});

/** Runs the tests in a process group of their own: 'killed', 'survived', or 'hung' past HANG_MS. */
function runTests(tests) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [JEST, ...tests, '--selectProjects', 'unit', '--silent'],
      {
        cwd: ROOT,
        stdio: 'ignore',
        detached: true,
      },
    );
    running = child.pid;
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      killRun(child.pid);
    }, HANG_MS);
    child.on('exit', (code) => {
      clearTimeout(timer);
      killRun(child.pid);
      running = undefined;
      resolve(hung ? 'hung' : code === 0 ? 'survived' : 'killed');
    });
  });
}

const mutants = entry.mutants.filter((mutant) => RECHECKED.has(mutant.status));
const tests = testPaths.length > 0 ? testPaths : ['test/unit/runtime'];
const counts = { killed: 0, hung: 0, survived: 0 };
process.stdout.write(
  `${mutants.length} mutants of ${file} to re-check against ${tests.join(' ')}\n`,
);
try {
  for (const [index, mutant] of mutants.entries()) {
    const start = offsetOf(mutant.location.start);
    const end = offsetOf(mutant.location.end);
    writeFileSync(path, source.slice(0, start) + (mutant.replacement ?? '') + source.slice(end));
    const verdict = await runTests(tests);
    counts[verdict] += 1;
    const original = source.slice(start, end).replace(/\s+/g, ' ').slice(0, 50);
    process.stdout.write(
      `[${index + 1}/${mutants.length}] ${verdict.padEnd(8)} line ${mutant.location.start.line} ${mutant.mutatorName}: ${original} → ${(mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 50)}\n`,
    );
  }
} finally {
  restore();
}
process.stdout.write(
  `${mutants.length} re-checked: killed ${counts.killed}, hung ${counts.hung}, survived ${counts.survived}\n`,
);
process.exit(counts.survived > 0 ? 1 : 0);
