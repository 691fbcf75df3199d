/** Per-row counters behind the live terminal view of `npm start`. */
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
