import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeadLetter, DeadLetterSink } from './dead-letter';
import { DriverlessError } from './errors';

/** The sink did not answer before the invocation's deadline. */
class DeadLetterTimeoutError extends DriverlessError {
  override name = 'DeadLetterTimeoutError';
}

/** The sink answered with something other than a list of the letters it was given. */
class DeadLetterSinkError extends DriverlessError {
  override name = 'DeadLetterSinkError';
}

/**
 * Hands `letters` to the sink and resolves with those not delivered. Never rejects and never
 * outlives `deadline` (epoch ms): a sink that throws (even before returning a promise), never
 * answers, or answers with anything but a subset of `letters` counts as having delivered none, so
 * the batch is reported failed at the first of them and Lambda retries; the cause is logged.
 */
export async function deliverDeadLetters(
  sink: DeadLetterSink,
  letters: readonly DeadLetter[],
  deadline: number,
  logger: Logger,
  where: { readonly batchId: string },
): Promise<readonly DeadLetter[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      const remaining = deadline - Date.now();
      if (!Number.isFinite(remaining)) return;
      timer = setTimeout(
        () => reject(new DeadLetterTimeoutError('dead letters were not delivered by the deadline')),
        Math.max(0, remaining),
      );
    });
    const undelivered: unknown = await Promise.race([
      Promise.resolve().then(() => sink.send(letters)),
      timeout,
    ]);
    if (!isSubsetOf(undelivered, letters)) {
      throw new DeadLetterSinkError(
        'the sink answered with something other than a list of the letters it was given',
      );
    }
    return undelivered;
  } catch (error) {
    logger.error('dead letters could not be delivered; the batch is reported failed', {
      ...where,
      deadLetters: letters.length,
      // Letters are in shard order: the record the batch is reported failed at, at the latest.
      fromSequenceNumber: letters[0]?.sequenceNumber,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return letters;
  } finally {
    clearTimeout(timer);
  }
}

// An undelivered "letter" the sink made up could name a record outside the batch, which Lambda
// answers by failing the whole batch: only the letters given count.
function isSubsetOf(value: unknown, letters: readonly DeadLetter[]): value is DeadLetter[] {
  if (!Array.isArray(value)) return false;
  if (value.length === 0) return true;
  const given = new Set<unknown>(letters);
  return value.every((letter) => given.has(letter));
}
