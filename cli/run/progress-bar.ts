/** A one-line progress display on stderr, redrawn at most every 200 ms; silent off a terminal. */
export class ProgressBar {
  #last = 0;
  #drawn = false;
  readonly #started = performance.now();
  readonly #enabled: boolean;

  /**
   * @param label what the bar counts, printed first (`running functions/orders.ts`)
   */
  constructor(
    enabled: boolean = process.stderr.isTTY === true,
    private readonly label = '',
  ) {
    this.#enabled = enabled;
  }

  update(records: number, fraction: number | undefined, force = false): void {
    if (!this.#enabled) return;
    const now = performance.now();
    if (!force && now - this.#last < 200) return;
    this.#last = now;
    const seconds = Math.max((now - this.#started) / 1000, 0.001);
    const rate = `${Math.round(records / seconds).toLocaleString('en-US')} records/s`;
    let line = `${records.toLocaleString('en-US')} records, ${rate}`;
    if (fraction !== undefined) {
      const clamped = Math.min(1, Math.max(0, fraction));
      const width = 30;
      const filled = Math.round(clamped * width);
      line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(clamped * 100).toFixed(0).padStart(3)}% ${line}`;
    }
    process.stderr.write(`\r${this.label ? `${this.label} ` : ''}${line}\u001b[K`);
    this.#drawn = true;
  }

  /** The pass that reads a file whole before it runs: how far through it is. */
  checking(file: string, fraction: number): void {
    if (!this.#enabled) return;
    const clamped = Math.min(1, Math.max(0, fraction));
    const filled = Math.round(clamped * 30);
    process.stderr.write(
      `\r[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(clamped * 100).toFixed(0).padStart(3)}% checking ${file}\u001b[K`,
    );
    this.#drawn = true;
  }

  done(): void {
    // Only a line that was drawn needs ending: a quick pass leaves stderr untouched.
    if (this.#drawn) process.stderr.write('\n');
    this.#drawn = false;
  }
}
