/**
 * The lines `driverless run` accepts: records within Kinesis's limits and saved events whose
 * records Lambda could have sent; anything else fails (exit 2) naming the line and the problem.
 */
import { CliError } from '../../../cli/cli-error';
import { MAX_RECORD_BYTES, parseFileLine } from '../../../cli/run/file-line';

const WHERE = 'line 7 of in.ndjson';

/** The one-line error a line fails with, or undefined if it is accepted. */
function problemOf(value: unknown, recordIndex = 0): string | undefined {
  try {
    parseFileLine(typeof value === 'string' ? value : JSON.stringify(value), WHERE, recordIndex);
    return undefined;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return `${error.exitCode} ${error.message}`;
  }
}

const savedRecord = (overrides: Record<string, unknown> = {}, shardId = 'shardId-000000000001') => {
  const { eventID, ...kinesis } = overrides;
  return {
    kinesis: {
      partitionKey: 'p',
      sequenceNumber: '5',
      data: Buffer.from('{"n":5}').toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000.5,
      ...kinesis,
    },
    eventID: eventID ?? `${shardId}:5`,
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/s',
  };
};

describe('parseFileLine', () => {
  it('returns a record line as a record', () => {
    // When
    const line = parseFileLine('{"data":{"n":1},"partitionKey":"k"}', WHERE, 0);

    // Then
    expect(line).toStrictEqual({ kind: 'record', record: { data: { n: 1 }, partitionKey: 'k' } });
  });

  it('returns nothing for a blank line', () => {
    // When
    const line = parseFileLine('   ', WHERE, 0);

    // Then
    expect(line).toBeUndefined();
  });

  it('accepts a record of exactly 1 MiB with its partition key', () => {
    // Given
    const record = { data: 'x'.repeat(MAX_RECORD_BYTES - 3), partitionKey: 'abc' };

    // When / Then
    expect(problemOf(record)).toBeUndefined();
  });

  it('fails if a record is one byte over 1 MiB with its partition key, counted in UTF-8', () => {
    // Given: "é" is two bytes
    const record = { data: 'x'.repeat(MAX_RECORD_BYTES - 3), partitionKey: 'ébc' };

    // When / Then
    expect(problemOf(record)).toBe(
      `2 ${WHERE}: the record is 1,048,577 bytes with its partition key, over Kinesis's 1 MiB record limit (1,048,576 bytes)`,
    );
  });

  it('fails if a record without a partition key is over 1 MiB with the index it gets as key', () => {
    // Given: the 1,000th record's key is "999", three bytes
    const record = { data: 'x'.repeat(MAX_RECORD_BYTES - 2) };

    // When / Then
    expect(problemOf(record, 999)).toMatch(/the record is 1,048,577 bytes/);
  });

  it('counts JSON data as its JSON text', () => {
    // Given: {"s":"…"} is 8 bytes more than the string
    const record = { data: { s: 'x'.repeat(MAX_RECORD_BYTES - 8) }, partitionKey: 'k' };

    // When / Then
    expect(problemOf(record)).toMatch(/the record is 1,048,577 bytes/);
  });

  it.each([
    [
      'an empty partition key',
      { data: 1, partitionKey: '' },
      '"partitionKey" is 0 characters; Kinesis takes 1 to 256',
    ],
    [
      'a partition key of 257 characters',
      { data: 1, partitionKey: 'k'.repeat(257) },
      '"partitionKey" is 257 characters; Kinesis takes 1 to 256',
    ],
    [
      'a number as partition key',
      { data: 1, partitionKey: 5 },
      '"partitionKey" is a number, not a string',
    ],
    [
      'a sequence number that is not digits',
      { data: 1, sequenceNumber: '12a' },
      '"sequenceNumber" must be a string of digits (given "12a")',
    ],
    [
      'a time that is not one',
      { data: 1, arrivedAt: 'yesterday' },
      '"arrivedAt" must be an ISO-8601 time (given "yesterday")',
    ],
  ])('fails if a record has %s', (_, record, problem) => {
    // When / Then
    expect(problemOf(record)).toBe(`2 ${WHERE}: ${problem}`);
  });

  it('accepts a partition key of 256 characters outside the basic plane', () => {
    // Given: each "😀" is one character of two UTF-16 units
    const record = { data: 1, partitionKey: '😀'.repeat(256) };

    // When / Then
    expect(problemOf(record)).toBeUndefined();
  });

  it('returns a saved event as an event', () => {
    // Given
    const event = { Records: [savedRecord()] };

    // When
    const line = parseFileLine(JSON.stringify(event), WHERE, 0);

    // Then
    expect(line).toStrictEqual({ kind: 'event', event });
  });

  it.each([
    ['data that is not a string', { data: 5 }, 'Records[1].kinesis.data is a number, not base64'],
    [
      'data that is not base64',
      { data: 'not base64!' },
      'Records[1].kinesis.data is not padded base64, as Lambda sends it',
    ],
    [
      'base64 without its padding',
      { data: 'eyJuIjo1fQ' },
      'Records[1].kinesis.data is not padded base64, as Lambda sends it',
    ],
    [
      'padding inside base64',
      { data: 'ab=cdefg' },
      'Records[1].kinesis.data is not padded base64, as Lambda sends it',
    ],
    [
      'no sequence number',
      { sequenceNumber: undefined },
      'Records[1].kinesis.sequenceNumber is not a string of digits',
    ],
    [
      'no partition key',
      { partitionKey: undefined },
      'Records[1].kinesis.partitionKey is missing, not a string',
    ],
    [
      'no arrival time',
      { approximateArrivalTimestamp: '2026-01-01' },
      'Records[1].kinesis.approximateArrivalTimestamp is a string, not epoch seconds',
    ],
    [
      'an eventID without a shard',
      { eventID: '5' },
      'Records[1].eventID is not "<shardId>:<sequenceNumber>"',
    ],
  ])('fails if a saved record has %s, naming it', (_, overrides, problem) => {
    // Given: a good record, then the bad one
    const event = { Records: [savedRecord(), savedRecord(overrides)] };

    // When / Then
    expect(problemOf(event)).toBe(`2 ${WHERE}: ${problem}`);
  });

  it("fails if a saved event mixes two shards' records", () => {
    // Given
    const event = { Records: [savedRecord(), savedRecord({}, 'shardId-000000000002')] };

    // When / Then
    expect(problemOf(event)).toBe(
      `2 ${WHERE}: Records[1] is on shardId-000000000002, Records[0] on shardId-000000000001: an event holds one shard's records`,
    );
  });

  it('fails if a saved record is over 1 MiB with its partition key', () => {
    // Given: 1 MiB of data, base64-encoded as Lambda sends it, and a one-byte key
    const data = Buffer.alloc(MAX_RECORD_BYTES).toString('base64');
    const event = { Records: [savedRecord({ data })] };

    // When / Then
    expect(problemOf(event)).toBe(
      `2 ${WHERE}: Records[0] is 1,048,577 bytes with its partition key, over Kinesis's 1 MiB record limit (1,048,576 bytes)`,
    );
  });

  it.each([
    ['text that is not JSON', '{"data":', `${WHERE} is not JSON`],
    ['JSON that is neither', '[1,2]', `${WHERE} is neither a record`],
    ['an object without data or Records', '{"n":1}', `${WHERE} is neither a record`],
  ])('fails with exit 2 on %s', (_, line, start) => {
    // When / Then
    expect(problemOf(line)).toMatch(new RegExp(`^2 ${start.replace(/[{}"]/g, '.')}`));
  });
});
