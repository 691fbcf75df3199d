/** A one-line progress display on stderr, redrawn at most every 200 ms; silent off a terminal. */
export class ProgressBar {
  #last = 0;
  readonly #started = performance.now();
  readonly #enabled: boolean;

  constructor(enabled: boolean = process.stderr.isTTY === true) {
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
    process.stderr.write(`\r${line}\u001b[K`);
  }

  done(): void {
    if (this.#enabled) process.stderr.write('\n');
  }
}
