/** Progress of a redrive, for a progress bar. */
export interface RedriveProgress {
  readonly phase: 'reading' | 'replaying';
  readonly done: number;
  readonly total: number;
  /**
   * What is being read or replayed, for the bar's label: `dead letters in queue orders-dlq`,
   * `on-failure records in bucket …`, `records through orders-fn:live`. Readers leave it out;
   * the redrive, which knows which destination it is reading, adds it.
   */
  readonly what?: string;
  /** What `done` and `total` count: `messages`, `objects` or `records`. */
  readonly unit?: string;
}
