import type { MappingTally } from './settled-tracker';

const n = (value: number) => value.toLocaleString('en-US');

/**
 * The one line `put` keeps redrawn on stderr while it works, labelled with what it is doing:
 * `putting` (with a bar when the total is known) and then `waiting` for the mappings. Silent off a
 * terminal, so logs and pipes get only the summary.
 */
export class PutProgress {
  #drawn = false;
  #last = 0;
  readonly #started = performance.now();

  constructor(
    private readonly stream: string,
    private readonly total: number | undefined,
    private readonly enabled: boolean = process.stderr.isTTY === true,
  ) {}

  sending(sent: number, failed: number, force = false): void {
    const seconds = Math.max((performance.now() - this.#started) / 1000, 0.001);
    const rate = `${n(Math.round(sent / seconds))} records/s`;
    const failures = failed > 0 ? `, ${n(failed)} not put` : '';
    if (this.total === undefined) {
      this.#draw(`putting on ${this.stream}: ${n(sent)} records, ${rate}${failures}`, force);
      return;
    }
    const fraction = this.total === 0 ? 1 : Math.min(1, sent / this.total);
    const filled = Math.round(fraction * 30);
    this.#draw(
      `putting on ${this.stream} [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${n(sent)}/${n(this.total)} records, ${rate}${failures}`,
      force,
    );
  }

  waiting(sent: number, mappings: readonly MappingTally[]): void {
    const behind = mappings
      .filter((m) => m.missing > 0)
      .map((m) => `${m.label} ${n(m.missing)}`)
      .join(', ');
    this.#draw(
      `waiting for the mappings of ${this.stream} to process ${n(sent)} records; still to settle: ${behind || 'none'}`,
    );
  }

  #draw(line: string, force = false): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 200) return;
    this.#last = now;
    const width = process.stderr.columns ?? 120;
    process.stderr.write(
      `\r${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}\u001b[K`,
    );
    this.#drawn = true;
  }

  /** Clears the line: the summary that follows says where everything ended. */
  done(): void {
    if (this.#drawn) process.stderr.write('\r\u001b[K');
    this.#drawn = false;
  }
}
