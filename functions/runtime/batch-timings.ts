/**
 * Where one batch's time went, for its log line and for attributing its cost: the decode, each
 * stage's computation, and the time each job spent computing stages (which is the stage's, not
 * the job's). Filled as the batch runs, read once when it ends.
 */
export class BatchTimings {
  decodeMs = 0;
  /** Milliseconds per stage, summed when the batch computes it for several record ranges. */
  readonly stageMs = new Map<string, number>();
  /** Milliseconds each job spent waiting on stages it was the first to read. */
  readonly stageMsByJob = new Map<string, number>();

  stageComputed(stage: string, job: string | undefined, ms: number): void {
    this.stageMs.set(stage, (this.stageMs.get(stage) ?? 0) + ms);
    if (job !== undefined) this.stageMsByJob.set(job, (this.stageMsByJob.get(job) ?? 0) + ms);
  }

  /** A job's own time: its duration without the stages it computed for everyone. */
  jobOwnMs(job: string, durationMs: number): number {
    return Math.max(0, durationMs - (this.stageMsByJob.get(job) ?? 0));
  }
}
