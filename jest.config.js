/** @type {import('jest').Config} */
const shared = {
  transform: {
    '^.+\\.(t|j)sx?$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  // middy 7 ships ESM only; jest's module system needs it transformed to CommonJS.
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    '^driverless$': '<rootDir>/lib/index.ts',
    '^driverless/runtime$': '<rootDir>/functions/runtime/index.ts',
    '^driverless/testing$': '<rootDir>/testing/index.ts',
    '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js',
  },
  testEnvironment: 'node',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  // `npm run test:mutation` copies the project into .stryker-tmp/ while it runs: not a second package.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
};

/** @type {import('jest').Config} */
module.exports = {
  // Integration suites spend most of their time waiting on the servers and function processes they
  // start: two workers keep a two-core machine busy, where jest's default (cores − 1) runs one.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  projects: [
    {
      ...shared,
      displayName: 'unit',
      // The templates' tests sit beside them: `driverless new` copies both into a project.
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/functions/templates/*.test.ts'],
    },
    { ...shared, displayName: 'cdk', testMatch: ['<rootDir>/test/cdk/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/integration/jest-timeout.ts'],
    },
    // Packs the package and installs it into `cdk init` projects, offline: minutes, not seconds.
    {
      ...shared,
      displayName: 'consumer',
      testMatch: ['<rootDir>/test/consumer/*.test.ts'],
    },
    // The full fault-injection suite runs for minutes: only `npm run test:chaos` selects it.
    ...(process.env.DRIVERLESS_CHAOS === '1'
      ? [
          {
            ...shared,
            displayName: 'chaos',
            testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
            setupFilesAfterEnv: ['<rootDir>/test/integration/jest-timeout.ts'],
          },
        ]
      : []),
  ],
};
