import { DriverlessError } from './errors';

/** A call the runtime makes (a cursor load or commit) did not finish by the invocation's deadline. */
export class CallTimeoutError extends DriverlessError {
  override name = 'CallTimeoutError';
}

/**
 * Runs `call` with a signal aborted at `deadline` (epoch ms) and settles by then at the latest:
 * with the call's result, or rejected with a {@link CallTimeoutError}. A call that throws before
 * returning a promise rejects. A call that ignores the signal is left behind, and its later
 * rejection is handled here, so it never surfaces as an unhandled rejection.
 */
export async function withinDeadline<R>(
  deadline: number,
  what: string,
  call: (signal: AbortSignal) => Promise<R> | R,
): Promise<R> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    const remaining = deadline - Date.now();
    if (!Number.isFinite(remaining)) return;
    timer = setTimeout(
      () => {
        const error = new CallTimeoutError(`${what} did not finish by the deadline`);
        controller.abort(error);
        reject(error);
      },
      Math.max(0, remaining),
    );
  });
  // Promise.race subscribes to both: whichever loses, its rejection is handled.
  const running = Promise.resolve().then(() => call(controller.signal));
  try {
    return await Promise.race([running, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The errors of a call cut off rather than answered: ours, and the AWS SDK's abort and timeout. */
const CUT_OFF = new Set(['CallTimeoutError', 'AbortError', 'TimeoutError']);

/**
 * Whether `error` says a call was cut off rather than answered: the deadline passed, or the
 * request was aborted or timed out (the AWS SDK's `AbortError` and `TimeoutError`).
 */
export function isCutOff(error: unknown): boolean {
  return CUT_OFF.has((error as { name?: unknown } | null | undefined)?.name as string);
}
