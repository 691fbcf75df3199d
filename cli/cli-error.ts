/** Exit codes of every `driverless` command (see the CLI contract in the brief). */
export const EXIT_OK = 0;
/** The work failed: records dead-lettered or failed, a replay failed. */
export const EXIT_FAILURE = 1;
/** Bad usage or input: unknown option, bad time, unreachable endpoint, missing table. */
export const EXIT_USAGE = 2;

/**
 * An error the CLI reports as one line on stderr, with its exit code. Commands throw it (or call
 * {@link fail}) instead of printing, so every command fails the same way.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Stops the current command with a one-line error and an exit code (2 = bad usage by default). */
export function fail(message: string, code: 1 | 2 = EXIT_USAGE): never {
  throw new CliError(message, code);
}

/** The first line of an error's message, so nothing but one line ever reaches stderr. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n').find((line) => line.trim() !== '') ?? message).trim();
}
