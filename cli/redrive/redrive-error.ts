/**
 * Bad usage or input of a redrive: unknown source or job, bad time, missing queue, unreachable
 * endpoint. The CLI prints the message as one line and exits 2; nothing was read or deleted.
 */
export class RedriveUsageError extends Error {
  override readonly name = 'RedriveUsageError';
}

/**
 * The function of a replay could not be invoked (no `live` alias, no permission, a service
 * error). Thrown by the replay; the redrive keeps what it did before and reports it.
 */
export class ReplayInvokeError extends Error {
  override readonly name = 'ReplayInvokeError';

  constructor(
    /** `function:qualifier` that was invoked. */
    readonly target: string,
    override readonly cause: unknown,
  ) {
    const { name, message } =
      cause instanceof Error ? cause : { name: 'Error', message: String(cause) };
    super(`cannot invoke ${target} (${name}: ${message.split('\n')[0]})`);
  }

  /** Whether the user can fix it (deploy the alias, grant lambda:InvokeFunction): exit 2. */
  get usage(): boolean {
    const name = this.cause instanceof Error ? this.cause.name : '';
    return [
      'ResourceNotFoundException',
      'AccessDeniedException',
      'AccessDeniedError',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
    ].includes(name);
  }
}

/**
 * A redrive stopped after it started replaying. What it did stands: recovered messages were
 * deleted, everything else was kept and released. The message says so in one line.
 */
export class RedriveStoppedError extends Error {
  override readonly name = 'RedriveStoppedError';

  constructor(
    message: string,
    /** Exit 2 when the user can fix the cause, else 1. */
    readonly usage: boolean,
  ) {
    super(message);
  }
}
