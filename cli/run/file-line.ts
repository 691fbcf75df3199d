import type { KinesisEvent } from 'driverless/runtime';
import { fail } from '../cli-error';
import { bytesOf, defaultPartitionKey, type FileRecord } from './synthetic-events';

/**
 * Kinesis caps a record at 1 MiB: its data before base64 plus its partition key
 * (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecord.html). A file record
 * above it could never have been on a stream, so a run must not accept it either.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** A partition key is 1 to 256 Unicode characters (same page). */
const MAX_PARTITION_KEY_CHARS = 256;

/** One line of a `driverless run` file: a record, or a saved Kinesis event. */
export type FileLine =
  | { readonly kind: 'record'; readonly record: FileRecord }
  | { readonly kind: 'event'; readonly event: KinesisEvent };

const RECORD_SHAPE =
  'a record {"data": ..., "partitionKey"?, "sequenceNumber"? (digits), "arrivedAt"? (ISO-8601)}';
const EVENT_SHAPE = 'a Kinesis event {"Records": [...]}';

const n = (value: number) => value.toLocaleString('en-US');

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function partitionKeyProblem(key: unknown, field: string): string | undefined {
  if (typeof key !== 'string') return `${field} is ${describe(key)}, not a string`;
  const chars = [...key].length;
  if (chars < 1 || chars > MAX_PARTITION_KEY_CHARS)
    return `${field} is ${n(chars)} characters; Kinesis takes 1 to ${MAX_PARTITION_KEY_CHARS}`;
  return undefined;
}

function sizeProblem(dataBytes: number, partitionKey: string, what: string): string | undefined {
  const bytes = dataBytes + Buffer.byteLength(partitionKey, 'utf8');
  return bytes > MAX_RECORD_BYTES
    ? `${what} is ${n(bytes)} bytes with its partition key, over Kinesis's 1 MiB record limit (${n(MAX_RECORD_BYTES)} bytes)`
    : undefined;
}

/**
 * The bytes a padded base64 string decodes to, or -1 if it is not one. Lambda always sends
 * padded standard base64; `Buffer` would silently skip anything else.
 */
function base64Bytes(text: string): number {
  if (text.length % 4 !== 0 || /[^A-Za-z0-9+/=]/.test(text)) return -1;
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.indexOf('=') !== -1 && text.indexOf('=') < text.length - padding) return -1;
  return (text.length / 4) * 3 - padding;
}

function recordLineProblem(
  value: Record<string, unknown>,
  recordIndex: number,
): string | undefined {
  const { data, partitionKey, sequenceNumber, arrivedAt } = value;
  if (partitionKey !== undefined) {
    const problem = partitionKeyProblem(partitionKey, '"partitionKey"');
    if (problem) return problem;
  }
  if (
    sequenceNumber !== undefined &&
    !(typeof sequenceNumber === 'string' && /^\d+$/.test(sequenceNumber))
  )
    return `"sequenceNumber" must be a string of digits (given ${JSON.stringify(sequenceNumber)})`;
  if (
    arrivedAt !== undefined &&
    !(typeof arrivedAt === 'string' && !Number.isNaN(Date.parse(arrivedAt)))
  )
    return `"arrivedAt" must be an ISO-8601 time (given ${JSON.stringify(arrivedAt)})`;
  const key = typeof partitionKey === 'string' ? partitionKey : defaultPartitionKey(recordIndex);
  return sizeProblem(bytesOf(data).length, key, 'the record');
}

/** What Lambda guarantees of every record it delivers, and the runtime relies on. */
function eventRecordProblem(record: unknown, index: number, shardId: string): string | undefined {
  const at = `Records[${index}]`;
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return `${at} is ${describe(record)}, not a record`;
  const { kinesis, eventID } = record as Record<string, unknown>;
  if (typeof kinesis !== 'object' || kinesis === null || Array.isArray(kinesis))
    return `${at} has no "kinesis" object`;
  const { data, sequenceNumber, partitionKey, approximateArrivalTimestamp } = kinesis as Record<
    string,
    unknown
  >;
  if (typeof data !== 'string') return `${at}.kinesis.data is ${describe(data)}, not base64`;
  const dataBytes = base64Bytes(data);
  if (dataBytes < 0) return `${at}.kinesis.data is not padded base64, as Lambda sends it`;
  if (typeof sequenceNumber !== 'string' || !/^\d+$/.test(sequenceNumber))
    return `${at}.kinesis.sequenceNumber is not a string of digits`;
  const keyProblem = partitionKeyProblem(partitionKey, `${at}.kinesis.partitionKey`);
  if (keyProblem) return keyProblem;
  if (
    typeof approximateArrivalTimestamp !== 'number' ||
    !Number.isFinite(approximateArrivalTimestamp)
  )
    return `${at}.kinesis.approximateArrivalTimestamp is ${describe(approximateArrivalTimestamp)}, not epoch seconds`;
  if (typeof eventID !== 'string' || !eventID.includes(':') || eventID.startsWith(':'))
    return `${at}.eventID is not "<shardId>:<sequenceNumber>"`;
  const recordShard = eventID.slice(0, eventID.lastIndexOf(':'));
  // One event holds records of one shard: Lambda never mixes them.
  if (recordShard !== shardId)
    return `${at} is on ${recordShard}, Records[0] on ${shardId}: an event holds one shard's records`;
  return sizeProblem(dataBytes, partitionKey as string, at);
}

function eventLineProblem(records: readonly unknown[]): string | undefined {
  const first = (records[0] as { eventID?: unknown } | undefined)?.eventID;
  const shardId = typeof first === 'string' ? first.slice(0, first.lastIndexOf(':')) : '';
  for (let i = 0; i < records.length; i++) {
    const problem = eventRecordProblem(records[i], i, shardId);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * Reads one line of a run file, checked as Kinesis and Lambda would have checked it: a record
 * within Kinesis's limits, or a saved event whose records Lambda could have sent. `recordIndex`
 * is the number of records before this line (a record without a partition key gets it as key).
 * Returns `undefined` for a blank line; fails with exit 2 naming the line (`where`) and the
 * problem.
 */
export function parseFileLine(
  line: string,
  where: string,
  recordIndex: number,
): FileLine | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    fail(`${where} is not JSON: each line is ${RECORD_SHAPE} or ${EVENT_SHAPE}`);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const fields = value as Record<string, unknown>;
    if (Array.isArray(fields.Records)) {
      const problem = eventLineProblem(fields.Records);
      if (problem) fail(`${where}: ${problem}`);
      return { kind: 'event', event: value as KinesisEvent };
    }
    if ('data' in fields) {
      const problem = recordLineProblem(fields, recordIndex);
      if (problem) fail(`${where}: ${problem}`);
      return { kind: 'record', record: value as FileRecord };
    }
  }
  fail(`${where} is neither ${RECORD_SHAPE} nor ${EVENT_SHAPE}`);
}
