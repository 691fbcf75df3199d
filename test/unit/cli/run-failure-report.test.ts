import type { RunSummary } from '../../../cli/run/batch-runner';
import { formatFailureReport, unsetVariablesNamedIn } from '../../../cli/run/failure-report';
import { keepBatchLines } from '../../../cli/run/log-level';

function summary(overrides: Partial<RunSummary>): RunSummary {
  return {
    batches: 1,
    invocations: 1,
    records: 1,
    processed: 1,
    deadLettered: 0,
    failed: 0,
    windowsClosed: 0,
    windowsFailed: 0,
    jobs: {},
    durationMs: 1,
    recordsPerSecond: 1,
    errors: [],
    ...overrides,
  };
}

describe('unsetVariablesNamedIn', () => {
  it('names a variable an error says is not set and the environment lacks', () => {
    // Given / When
    const names = unsetVariablesNamedIn([{ error: 'Error: ORDERS_TABLE is not set' }], {});

    // Then
    expect(names).toStrictEqual(['ORDERS_TABLE']);
  });

  it('names no variable the environment has', () => {
    // Given / When
    const names = unsetVariablesNamedIn([{ error: 'Error: ORDERS_TABLE is not set' }], {
      ORDERS_TABLE: 'orders',
    });

    // Then
    expect(names).toStrictEqual([]);
  });

  it('names no variable when the error does not say one is missing', () => {
    // Given / When
    const names = unsetVariablesNamedIn([{ error: 'ConditionalCheckFailed on ORDERS_TABLE' }], {});

    // Then
    expect(names).toStrictEqual([]);
  });
});

describe('formatFailureReport', () => {
  it('is empty for a run that did not fail', () => {
    // Given / When
    const report = formatFailureReport(summary({}), new Map(), {});

    // Then
    expect(report).toBe('');
  });

  it('lists the most frequent error first', () => {
    // Given
    const failed = summary({
      failed: 5,
      errors: [
        { job: 'a', error: 'Error: rare', invocations: 1, records: 1 },
        { job: 'b', error: 'Error: often', invocations: 4, records: 4 },
      ],
    });

    // When
    const lines = formatFailureReport(failed, new Map(), {}).split('\n');

    // Then
    expect(lines.slice(0, 3)).toStrictEqual([
      'why records failed (2 distinct errors):',
      '  job b failed 4 invocations (4 records, retries included): Error: often',
      '  job a failed 1 invocation (1 records, retries included): Error: rare',
    ]);
  });

  it("suggests the running local stack's value for an unset variable", () => {
    // Given
    const failed = summary({
      failed: 1,
      errors: [{ job: 'a', error: 'Error: ORDERS_TABLE is not set', invocations: 1, records: 1 }],
    });

    // When
    const report = formatFailureReport(
      failed,
      new Map(),
      {},
      new Map([['ORDERS_TABLE', new Set(['retail-orders'])]]),
    );

    // Then
    expect(report).toContain('ORDERS_TABLE=retail-orders npx driverless run …');
  });

  it('says so when records failed without any error', () => {
    // Given a handler that returned batch item failures of its own
    const failed = summary({ failed: 2 });

    // When
    const report = formatFailureReport(failed, new Map(), {});

    // Then
    expect(report).toBe(
      'why records failed: no job reported an error (the handler returned them as batch item failures)\n',
    );
  });
});

describe('keepBatchLines', () => {
  it('lowers a quieter level to INFO so the batch lines reach the run', () => {
    // Given
    const env: NodeJS.ProcessEnv = { POWERTOOLS_LOG_LEVEL: 'SILENT' };

    // When
    keepBatchLines(env);

    // Then
    expect(env.POWERTOOLS_LOG_LEVEL).toBe('INFO');
  });

  it("shows only the lines the user's level asked for", () => {
    // Given
    const show = keepBatchLines({ POWERTOOLS_LOG_LEVEL: 'ERROR' });

    // When / Then
    expect(['INFO', 'WARN', 'ERROR'].map(show)).toStrictEqual([false, false, true]);
  });

  it('keeps a more verbose level as the user set it', () => {
    // Given
    const env: NodeJS.ProcessEnv = { POWERTOOLS_LOG_LEVEL: 'DEBUG' };

    // When
    const show = keepBatchLines(env);

    // Then
    expect({
      level: env.POWERTOOLS_LOG_LEVEL,
      info: show('INFO'),
      warn: show('WARN'),
    }).toStrictEqual({ level: 'DEBUG', info: false, warn: true });
  });
});
