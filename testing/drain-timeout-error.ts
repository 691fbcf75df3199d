/** Raised by `drained()` when records are still pending at its timeout. */
export class DrainTimeoutError extends Error {
  override readonly name = 'DrainTimeoutError';
  /** Each mapping that is behind and by how many records. */
  readonly behind: readonly { readonly mapping: string; readonly pending: number }[];

  constructor(message: string, behind: DrainTimeoutError['behind']) {
    super(message);
    this.behind = behind;
  }
}
