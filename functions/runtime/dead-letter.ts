import { createHash } from 'node:crypto';

/**
 * A record the pipeline gave up on, with everything needed to replay it:
 * the raw bytes, where it came from, and why it was rejected.
 */
export interface DeadLetter {
  /** Stable identity of the record: `<shardId>:<sequenceNumber>[:<subSequenceNumber>]`. */
  readonly id: string;
  /**
   * Stable identity of this letter: a hash (32 hex digits) of the function, stream, shard, sequence
   * and sub-sequence number. A record rejected again by the same function (a retried batch, a
   * replay) gets the same `letterId`, so a sink or a reader can keep one letter per id.
   * Optional only so that letters written before it existed still read as letters.
   */
  readonly letterId?: string;
  /** Why the record was rejected, e.g. `invalid JSON: Unexpected token } in JSON at position 9`. */
  readonly reason: string;
  /** The record's raw bytes, base64 (exactly as Kinesis delivered them). */
  readonly data: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
  readonly shardId: string;
  readonly streamArn: string;
  /** ISO-8601 arrival time in the stream. */
  readonly arrivedAt: string;
  /** Epoch seconds with a millisecond fraction, as in the event (kept for an exact replay). */
  readonly approximateArrivalTimestamp: number;
  /** The source and function that rejected the record. */
  readonly source?: string;
  readonly functionName?: string;
  readonly batchId: string;
  /** ISO-8601 time the dead letter was written. */
  readonly deadLetteredAt: string;
}

/** Where dead letters go. `send` resolves with the letters it could NOT deliver (empty on success). */
export interface DeadLetterSink {
  send(
    letters: readonly DeadLetter[],
    options?: DeadLetterSendOptions,
  ): Promise<readonly DeadLetter[]>;
}

/** What the runtime passes to each {@link DeadLetterSink.send}. */
export interface DeadLetterSendOptions {
  /**
   * Aborted at the invocation's deadline; pass it to the sink's requests (`abortSignal`). The
   * runtime stops waiting then either way and reports the letters undelivered; the signal ends the
   * requests too, so none is left running into a later invocation.
   */
  readonly signal?: AbortSignal;
}

/**
 * The key prefix of dead letters in S3: batches of letters (`.ndjson`) and payloads that
 * overflowed from SQS (`.json`). `driverless redrive` lists the bucket under it.
 */
export const DEAD_LETTER_KEY_PREFIX = 'dead-letters/';

export function deadLetterId(shardId: string, sequenceNumber: string, sub?: number): string {
  return sub === undefined ? `${shardId}:${sequenceNumber}` : `${shardId}:${sequenceNumber}:${sub}`;
}

/** The {@link DeadLetter.letterId} of a record rejected by `functionName`. */
export function letterIdOf(
  functionName: string,
  letter: Pick<DeadLetter, 'streamArn' | 'shardId' | 'sequenceNumber' | 'subSequenceNumber'>,
): string {
  return createHash('sha256')
    .update(
      `${functionName}|${letter.streamArn}|${letter.shardId}|${letter.sequenceNumber}|${letter.subSequenceNumber ?? ''}`,
    )
    .digest('hex')
    .slice(0, 32);
}
