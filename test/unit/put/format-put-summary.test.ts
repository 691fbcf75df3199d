import { formatPutSummary, type PutSummary } from '../../../cli/put/format-put-summary';

function summary(overrides: Partial<PutSummary>): PutSummary {
  return {
    stream: 'orders',
    shards: 2,
    endpoint: 'http://127.0.0.1:4567',
    sent: 10,
    failedToPut: 0,
    putErrors: {},
    durationMs: 1000,
    recordsPerSecond: 10,
    stopped: false,
    tracked: 'yes',
    mappings: [{ label: 'orders', processed: 10, filtered: 0, discarded: 0, missing: 0 }],
    accountedFor: true,
    lostTrack: false,
    timedOut: false,
    ...overrides,
  };
}

const verdict = (text: string) => text.trimEnd().split('\n').at(-1);

describe('formatPutSummary', () => {
  it('says every record was accounted for', () => {
    expect(verdict(formatPutSummary(summary({})))).toBe('every record accounted for.');
  });

  it('says records were discarded and what recovers them', () => {
    // Given
    const discarded = summary({
      mappings: [{ label: 'orders', processed: 8, filtered: 0, discarded: 2, missing: 0 }],
    });

    // When / Then
    expect(verdict(formatPutSummary(discarded))).toBe(
      'every record accounted for, but 2 were discarded (retries or age exhausted): driverless redrive recovers them.',
    );
  });

  it('says records on AWS are put but not followed', () => {
    // Given
    const onAws = summary({ tracked: 'not-local', mappings: undefined, accountedFor: undefined });

    // When / Then
    expect(verdict(formatPutSummary(onAws))).toBe(
      'every record put; not followed further: only the embedded stack reports what its mappings did with each record.',
    );
  });

  it('names the error codes of records not put', () => {
    // Given
    const refused = summary({
      failedToPut: 3,
      putErrors: { ProvisionedThroughputExceededException: 3 },
    });

    // When / Then
    expect(verdict(formatPutSummary(refused))).toBe(
      '3 records were not put (ProvisionedThroughputExceededException ×3).',
    );
  });
});
