import type { RunSummary } from './batch-runner';

/** Rows of cells, the first column left-aligned and the others right-aligned, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The human summary of a run: totals (windows too when the run had any), then one row per job. */
export function formatSummary(summary: RunSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const totals = table([
    ['batches', n(summary.batches)],
    ['invocations', n(summary.invocations)],
    ['records', n(summary.records)],
    ['processed', n(summary.processed)],
    ['dead-lettered', n(summary.deadLettered)],
    ['failed', n(summary.failed)],
    ...(summary.windowsClosed + summary.windowsFailed > 0
      ? [
          ['windows closed', n(summary.windowsClosed)],
          ['windows failed', n(summary.windowsFailed)],
        ]
      : []),
    [
      'duration',
      `${(summary.durationMs / 1000).toFixed(1)} s (${n(summary.recordsPerSecond)} records/s)`,
    ],
  ]);
  const jobs = Object.entries(summary.jobs);
  const perJob =
    jobs.length === 0
      ? ''
      : `\n\n${table([
          [
            'job',
            'batches',
            'succeeded',
            'partial',
            'failed',
            'timed-out',
            'skipped',
            'records',
            'failed records',
          ],
          ...jobs.map(([job, t]) => [
            job,
            n(t.batches),
            n(t.succeeded),
            n(t.partial),
            n(t.failed),
            n(t.timedOut),
            n(t.skipped),
            n(t.records),
            n(t.failedRecords),
          ]),
        ])}`;
  const letters =
    summary.deadLettered > 0 && summary.deadLetterFile
      ? `\n\ndead letters: ${summary.deadLetterFile}`
      : '';
  const tick = summary.finalTickFailed
    ? '\n\nfinal tick failed: the stateful jobs did not emit every open window'
    : '';
  const error = summary.lastError ? `\nlast handler error: ${summary.lastError}` : '';
  return `${totals}${perJob}${letters}${tick}${error}\n`;
}
