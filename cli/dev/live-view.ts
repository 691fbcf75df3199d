import type { AppActivity, MappingActivity } from './app-activity';

/** Per-row counters behind the live terminal view of `driverless dev` and `npm start`. */
export class RateCounter {
  total = 0;
  #window: { at: number; n: number }[] = [];
  add(n: number, at = Date.now()): void {
    this.total += n;
    this.#window.push({ at, n });
  }
  /** Events per second over the last `seconds`. */
  perSecond(seconds = 5, now = Date.now()): number {
    this.#window = this.#window.filter((entry) => entry.at > now - 60_000);
    const recent = this.#window.filter((entry) => entry.at > now - seconds * 1000);
    return recent.reduce((sum, entry) => sum + entry.n, 0) / seconds;
  }
}

/** Keeps the latest latencies and answers percentiles over them. */
export class LatencySample {
  #values: number[] = [];
  add(values: readonly number[]): void {
    this.#values.push(...values);
    if (this.#values.length > 20_000) this.#values = this.#values.slice(-10_000);
  }
  percentile(p: number): number | undefined {
    if (this.#values.length === 0) return undefined;
    const sorted = [...this.#values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  }
}

/** Renders rows as an aligned text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, column) =>
    Math.max(...cells.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ');
  return [
    line(header),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
  ].join('\n');
}

export const formatMs = (ms: number | undefined): string =>
  ms === undefined ? '–' : `${Math.round(ms)} ms`;

/** What the live view's header says about the session: fixed once the stack is up. */
export interface SessionHeader {
  /** The command, as the user typed it: `driverless dev`, `npm start`. */
  readonly command: string;
  readonly app: string;
  readonly stacks: readonly string[];
  readonly endpoints: Readonly<Record<string, string>>;
  readonly stateFile: string;
  /** What watch mode watches, or `undefined` when it is off. */
  readonly watching: string | undefined;
}

/** What the view adds after the tables: the line that tells how to stop, and what it prints. */
export const STOP_HINT = 'Ctrl-C stops every server and function, then prints a summary.';

/** `1:02:03`, `02:03`. */
export function formatElapsed(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const hh = Math.floor(seconds / 3600);
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

const count = (n: number): string => n.toLocaleString('en-US');
const rate = (n: number): string => (n < 10 && n > 0 ? n.toFixed(1) : n.toFixed(0));

/** The version cell: what runs, and what was published when the running one is older. */
function versionCell(running: string | undefined, published: string | undefined): string {
  if (running === undefined) return published ? `v${published}` : '–';
  if (published !== undefined && published !== running) return `v${running} → v${published}`;
  return `v${running}`;
}

/**
 * The whole screen of the live view, redrawn each second: header, totals, one row per mapping
 * with its columns explained, jobs, windows, recent notices and the stop hint last, so a redraw
 * never hides it.
 */
export function renderLiveView(
  header: SessionHeader,
  activity: AppActivity,
  now = Date.now(),
): string {
  const rows = [...activity.mappings.values()];
  const sum = (pick: (row: MappingActivity) => number) =>
    rows.reduce((total, row) => total + pick(row), 0);
  const lines: string[] = [];
  lines.push(
    `${header.command} · ${header.app} · running ${formatElapsed(now - activity.startedAt)}${header.watching ? ' · watching for changes' : ''}`,
  );
  lines.push(`  stacks     ${header.stacks.join(', ')}`);
  lines.push(
    `  endpoints  ${Object.entries(header.endpoints)
      .map(([service, url]) => `${service} ${url}`)
      .join('  ')}`,
  );
  lines.push(`  state      ${header.stateFile} (the AWS CLI, driverless run and redrive read it)`);
  if (header.watching) lines.push(`  watching   ${header.watching}`);
  lines.push('');
  lines.push(
    `Totals: ${count(activity.totalPut())} records put · ${count(sum((r) => r.processed.total))} processed · ${count(sum((r) => r.deadLettered.total))} dead-lettered · ${count(sum((r) => r.discarded.total))} given up · ${count(sum((r) => r.failedBatches))} failed batches`,
  );
  lines.push('');
  lines.push(
    table(
      [
        'source',
        'code',
        'in/s',
        'processed/s',
        'processed',
        'dead-lettered',
        'batches',
        'failed',
        'behind',
        'p50',
        'p99',
      ],
      rows.map((row) => [
        row.label,
        versionCell(row.runningVersion, activity.publishedVersions.get(row.functionName)),
        rate(activity.incoming.get(row.stream)?.perSecond(5, now) ?? 0),
        rate(row.processed.perSecond(5, now)),
        count(row.processed.total),
        count(row.deadLettered.total),
        count(row.batches),
        count(row.failedBatches),
        formatMs(row.iteratorAgeMs),
        formatMs(row.latency.percentile(50)),
        formatMs(row.latency.percentile(99)),
      ]),
    ),
  );
  lines.push(
    '  in/s: records put on the source stream per second, by anyone (last 5 s) · processed/s: records the function finished',
    '  code: the version the last batch ran (→ a newer one is published and takes the next batch) · failed: batches the function failed',
    '  behind: age of the newest record of the last batch when it was handed over · p50/p99: put → processed, per record',
  );
  if (activity.jobs.size > 0) {
    lines.push('');
    lines.push(
      table(
        ['job', 'records/s', 'records', 'failed', 'p50 batch time', 'p99 batch time'],
        [...activity.jobs].map(([job, stats]) => [
          job,
          rate(stats.records.perSecond(5, now)),
          count(stats.records.total),
          count(stats.failed),
          formatMs(stats.durations.percentile(50)),
          formatMs(stats.durations.percentile(99)),
        ]),
      ),
    );
  }
  const windowed = rows.filter((row) => row.tumblingWindowSeconds > 0);
  if (windowed.length > 0) {
    lines.push('');
    for (const row of windowed) {
      const open = [...row.openWindowRecords.values()].reduce((total, n) => total + n, 0);
      lines.push(
        `  window ${row.label} (${row.tumblingWindowSeconds} s): ${count(row.windowsClosed)} windows closed · ${count(open)} records in the open window · ${count(row.processed.total)} records in all`,
      );
    }
  }
  const recent = activity.notices.slice(-5);
  if (recent.length > 0) {
    lines.push('');
    lines.push(...recent);
  }
  lines.push('');
  lines.push(STOP_HINT);
  return `${lines.join('\n')}\n`;
}

/** What is printed on exit: how long it ran, and what each source did in that time. */
export function renderSummary(
  header: SessionHeader,
  activity: AppActivity,
  now = Date.now(),
): string {
  const rows = [...activity.mappings.values()];
  const published = [...activity.publishedVersions].map(
    ([fn, version]) => `${activity.labelOf(fn)} v${version}`,
  );
  return `${[
    `${header.command} ran ${formatElapsed(now - activity.startedAt)}: ${count(activity.totalPut())} records put`,
    table(
      [
        'source',
        'stream',
        'processed',
        'dead-lettered',
        'filtered out',
        'given up',
        'failed batches',
      ],
      rows.map((row) => [
        row.label,
        row.stream,
        count(row.processed.total),
        count(row.deadLettered.total),
        count(row.filteredOut.total),
        count(row.discarded.total),
        count(row.failedBatches),
      ]),
    ),
    ...(published.length > 0 ? [`code published while running: ${published.join(', ')}`] : []),
  ].join('\n')}\n`;
}
