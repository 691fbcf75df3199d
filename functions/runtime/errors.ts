/** Base class of every error the runtime throws. */
export class DriverlessError extends Error {
  override name = 'DriverlessError';
}

/**
 * The invocation event is not a Kinesis event this runtime can read.
 * Thrown, so the invocation fails: a malformed event is an infrastructure problem, not bad data.
 */
export class InvalidEventError extends DriverlessError {
  override name = 'InvalidEventError';
}

/** The handler is configured wrongly (options or environment); thrown at cold start. */
export class ConfigurationError extends DriverlessError {
  override name = 'ConfigurationError';
}

/** A record could not be decoded; it becomes a dead letter carrying this message as its reason. */
export class DecodeError extends DriverlessError {
  override name = 'DecodeError';
}

/** A job ran past its deadline; every record it was given counts as failed. */
export class JobTimeoutError extends DriverlessError {
  override name = 'JobTimeoutError';
}
