/**
 * Kinesis sequence numbers are ~56-digit decimal strings: they must be compared as big integers,
 * never as JS numbers (ESM-SEMANTICS §1.1).
 */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** True when the string is a plain decimal sequence number. */
export function isSequenceNumber(value: string): boolean {
  return /^\d+$/.test(value);
}
