import { table } from '../run/format-summary';
import type { MappingTally } from './settled-tracker';

/** The summary `driverless put` prints (and prints as JSON with `--json`). */
export interface PutSummary {
  readonly stream: string;
  readonly shards: number;
  readonly endpoint: string;
  /** Records Kinesis accepted. */
  readonly sent: number;
  /** Records Kinesis still refused after every attempt. */
  readonly failedToPut: number;
  /** Those refusals by error code. */
  readonly putErrors: Record<string, number>;
  readonly durationMs: number;
  readonly recordsPerSecond: number;
  /** Stopped by SIGINT/SIGTERM before every record was sent or accounted for. */
  readonly stopped: boolean;
  /**
   * Whether records were followed to their mappings: `yes`; `not-local` (waiting was asked but the
   * endpoint is not a running embedded stack); `not-asked` (no `--records` or `--wait`).
   */
  readonly tracked: 'yes' | 'not-local' | 'not-asked';
  readonly mappings?: readonly MappingTally[];
  readonly accountedFor?: boolean;
  readonly lostTrack?: boolean;
  readonly timedOut?: boolean;
}

const n = (value: number) => value.toLocaleString('en-US');

/** Label and value lines, values left-aligned after the longest label. */
function pairs(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** The verdict line: what the exit code means, in words. */
function verdict(summary: PutSummary): string {
  if (summary.stopped) return 'stopped before every record was sent and accounted for.';
  if (summary.failedToPut > 0)
    return `${n(summary.failedToPut)} records were not put (${Object.entries(summary.putErrors)
      .map(([code, count]) => `${code} ×${n(count)}`)
      .join(', ')}).`;
  if (summary.tracked === 'not-asked')
    return `every record put (--records N or --wait also waits until each is processed).`;
  if (summary.tracked === 'not-local')
    return 'every record put; not followed further: only the embedded stack reports what its mappings did with each record.';
  const discarded = (summary.mappings ?? []).reduce((sum, m) => sum + m.discarded, 0);
  if (summary.lostTrack)
    return 'SOME RECORDS WERE NOT ACCOUNTED FOR: the stack settled records faster than put could follow.';
  if (!summary.accountedFor) {
    const missing = (summary.mappings ?? []).reduce((sum, m) => sum + m.missing, 0);
    return `SOME RECORDS WERE NOT ACCOUNTED FOR: ${n(missing)} deliveries still missing${summary.timedOut ? ' at --timeout' : ''}.`;
  }
  if (summary.mappings?.length === 0)
    return 'every record put; no enabled mapping reads this stream, so none will be processed.';
  if (discarded > 0)
    return `every record accounted for, but ${n(discarded)} were discarded (retries or age exhausted): driverless redrive recovers them.`;
  return 'every record accounted for.';
}

/**
 * The human summary of a put: what was sent where, then (when records were followed) one row per
 * mapping of the stream with what it did with them, then one line saying what the exit code means.
 */
export function formatPutSummary(summary: PutSummary): string {
  const totals = pairs([
    [
      'stream',
      `${summary.stream} (${n(summary.shards)} shard${summary.shards === 1 ? '' : 's'}) at ${summary.endpoint}`,
    ],
    [
      'sent',
      `${n(summary.sent)} records in ${(summary.durationMs / 1000).toFixed(1)} s (${n(summary.recordsPerSecond)} records/s)`,
    ],
    ['not put', n(summary.failedToPut)],
  ]);
  const mappings =
    summary.mappings && summary.mappings.length > 0
      ? `\n\n${table([
          ['mapping (function)', 'processed', 'filtered out', 'discarded', 'missing'],
          ...summary.mappings.map((m) => [
            m.label,
            n(m.processed),
            n(m.filtered),
            n(m.discarded),
            n(m.missing),
          ]),
        ])}\n(processed includes records the handler dead-lettered: driverless redrive --dry-run lists them)`
      : '';
  return `${totals}${mappings}\n\n${verdict(summary)}\n`;
}
