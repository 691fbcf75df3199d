// `testTimeout` is a global-only jest option, ignored inside `projects`: integration tests start
// real servers and processes, so they get their own.
jest.setTimeout(120_000);
