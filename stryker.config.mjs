// Mutation testing of the decisions that acknowledge, drop, dead-letter or delete a record:
// `npm run test:mutation`. Not part of `npm test`: a full run takes many minutes on two cores.
// Pass `--mutate <glob>` to run one file group, e.g. `npm run test:mutation -- --mutate 'functions/kinesis/*.ts'`.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const { projects } = require('./jest.config.js');
// The unit project alone, flattened: the runner's per-test coverage wraps the top-level test
// environment, which a multi-project config does not have.
const { displayName: _unit, ...unit } = projects.find((project) => project.displayName === 'unit');

/** The unit tests of each file group under mutation. */
const TESTS = {
  runtime: ['<rootDir>/test/unit/runtime/**/*.test.ts'],
  kinesis: ['<rootDir>/test/unit/kinesis/**/*.test.ts', '<rootDir>/test/unit/esm-*.test.ts'],
  esm: ['<rootDir>/test/unit/esm-*.test.ts'],
  redrive: ['<rootDir>/test/unit/redrive/**/*.test.ts'],
};

/**
 * The tests to run: all groups', or with `MUTATION_TESTS=runtime,kinesis` (and `--mutate` naming
 * those groups' files) only those, so a shared machine can run the suite in pieces.
 */
function testsOf(groups) {
  const names = groups ? groups.split(',') : Object.keys(TESTS);
  return [...new Set(names.flatMap((name) => TESTS[name] ?? []))];
}

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    config: {
      ...unit,
      projects: undefined,
      // The unit tests of the code under mutation; the rest (benchmarks, packaging, templates)
      // test other things and would only slow every mutant down.
      testMatch: testsOf(process.env.MUTATION_TESTS),
      // The sandbox has no node_modules of its own (Node finds the project's by walking up), so
      // the mapping that names `<rootDir>/node_modules` points at the project's instead.
      moduleNameMapper: Object.fromEntries(
        Object.entries(unit.moduleNameMapper).map(([pattern, target]) => [
          pattern,
          target.replace('<rootDir>/node_modules/', `${here}/node_modules/`),
        ]),
      ),
    },
  },
  coverageAnalysis: 'perTest',
  // Static mutants (module-level constants such as size caps) run every test for each mutant:
  // most of the time for a fraction of the mutants. The caps have their own tests.
  ignoreStatic: true,
  concurrency: 2,
  // swc strips types without checking them; a mutant that does not type-check still runs.
  checkers: [],
  // Stryker rewrites tsconfig.json's paths for its sandbox with the TypeScript compiler API, which
  // TypeScript 7 no longer has; the sandbox sits inside the project, so nothing needs rewriting.
  // Naming a file that does not exist skips that step.
  tsconfigFile: 'stryker-no-tsconfig.json',
  mutate: [
    'functions/runtime/failures-of.ts',
    'functions/runtime/run-jobs.ts',
    'functions/runtime/dead-letter.ts',
    'functions/runtime/deliver-dead-letters.ts',
    'functions/runtime/dead-letter-sinks.ts',
    'functions/runtime/decode-event.ts',
    'functions/runtime/cursors.ts',
    'functions/runtime/micro-batch.ts',
    'functions/runtime/windows.ts',
    'functions/runtime/within-deadline.ts',
    'functions/kinesis/batch-response.ts',
    'functions/kinesis/sequence-numbers.ts',
    'emulator/esm/processBatch.ts',
    'cli/redrive/find-dead-lettered-again.ts',
    'cli/redrive/replay-set.ts',
    'cli/redrive/payload-location.ts',
    // Which messages and payload objects a redrive deletes, in a file of its own: a line range of
    // redrive.ts drifted off the function as soon as the file changed.
    'cli/redrive/delete-recovered.ts',
  ],
  ignorePatterns: [
    'cdk.out',
    'cdk.*.out',
    '.driverless',
    'dist',
    'bench/results',
    'reports',
    'coverage',
  ],
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  incremental: false,
  timeoutMS: 10000,
  // The first run of every test, on a machine others share, can take far longer than the default 5.
  dryRunTimeoutMinutes: 30,
};
