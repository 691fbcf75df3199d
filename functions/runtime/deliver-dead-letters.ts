import type { Logger } from '@aws-lambda-powertools/logger';
import type { DeadLetter, DeadLetterSink } from './dead-letter';
import { DriverlessError } from './errors';
import { withinDeadline } from './within-deadline';

/** The sink answered with something other than a list of the letters it was given. */
class DeadLetterSinkError extends DriverlessError {
  override name = 'DeadLetterSinkError';
}

/**
 * Hands `letters` to the sink and resolves with those not delivered. Never rejects and never
 * outlives `deadline` (epoch ms), at which the signal given to the sink is aborted: a sink that
 * throws (even before returning a promise), never answers, or answers with anything but a subset
 * of `letters` counts as having delivered none, so the batch is reported failed at the first of
 * them and Lambda retries; the cause is logged.
 */
export async function deliverDeadLetters(
  sink: DeadLetterSink,
  letters: readonly DeadLetter[],
  deadline: number,
  logger: Logger,
  where: { readonly batchId: string },
): Promise<readonly DeadLetter[]> {
  try {
    const undelivered: unknown = await withinDeadline(
      deadline,
      'delivering the dead letters',
      (signal) => sink.send(letters, { signal }),
    );
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
  }
}

// An undelivered "letter" the sink made up could name a record outside the batch, which Lambda
// answers by failing the whole batch: only the letters given count.
function isSubsetOf(value: unknown, letters: readonly DeadLetter[]): value is DeadLetter[] {
  if (!Array.isArray(value)) return false;
  const given = new Set<unknown>(letters);
  return value.every((letter) => given.has(letter));
}
