/**
 * Bad usage or input of a redrive: unknown source or job, bad time, missing queue, unreachable
 * endpoint. The CLI prints the message as one line and exits 2; nothing was read or deleted.
 */
export class RedriveUsageError extends Error {
  override readonly name = 'RedriveUsageError';
}
