/** Progress of a redrive, for a progress bar. */
export interface RedriveProgress {
  readonly phase: 'reading' | 'replaying';
  readonly done: number;
  readonly total: number;
}
