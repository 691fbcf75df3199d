/** The position of a (possibly de-aggregated) record in its shard. */
export interface RecordPosition {
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number | undefined;
}

/**
 * Orders two Kinesis sequence numbers. They are decimal strings of ~56 digits, far beyond 2^53,
 * so they are compared as big integers (docs/event-source-mapping.md#sequence-numbers), never as
 * JS numbers.
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const left = BigInt(a);
  const right = BigInt(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

// One expression for every call: the runtime checks each record of a batch with it.
const DECIMAL = /^\d+$/;

/** True when the string is a plain decimal sequence number, as Kinesis writes them. */
export function isSequenceNumber(value: string): boolean {
  return DECIMAL.test(value);
}

/** Orders two record positions: by sequence number, then by KPL sub-sequence number. */
export function comparePositions(a: RecordPosition, b: RecordPosition): number {
  return (
    compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber) ||
    (a.subSequenceNumber ?? -1) - (b.subSequenceNumber ?? -1)
  );
}

/** The lowest of the given positions, or `undefined` for none. */
export function lowestPosition<P extends RecordPosition>(positions: Iterable<P>): P | undefined {
  let lowest: P | undefined;
  for (const position of positions) {
    if (lowest === undefined || comparePositions(position, lowest) < 0) lowest = position;
  }
  return lowest;
}
