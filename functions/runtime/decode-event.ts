import { isUtf8 } from 'node:buffer';
import { isSequenceNumber, type KinesisEvent, type KinesisEventRecord } from '../kinesis/index';
import type { DeadLetter } from './dead-letter';
import { deadLetterId } from './dead-letter';
import type { Decoder } from './decoders';
import { DecodeError, InvalidEventError } from './errors';
import { DecodedRecord } from './stream-record';

/** A Kinesis event turned into good records and dead letters. */
export interface DecodedBatch<T> {
  readonly shardId: string;
  readonly streamArn: string;
  /** Records that decoded, in shard order. */
  readonly records: DecodedRecord<T>[];
  /** Records that did not, without `batchId`/time fields (the caller stamps them). */
  readonly rejected: RejectedRecord[];
  readonly firstSequenceNumber: string | undefined;
  readonly lastSequenceNumber: string | undefined;
  /** Arrival (epoch seconds) of the newest record, for iterator age. */
  readonly lastArrivalSeconds: number | undefined;
  /**
   * For a tumbling-window event, what sets its invocation apart beyond its records: the window's
   * bounds and, for an invocation without records (a window's final one), how it ended and the
   * state it carries, since two windows closed early can share bounds.
   */
  readonly window: string | undefined;
}

export type RejectedRecord = Omit<
  DeadLetter,
  'batchId' | 'deadLetteredAt' | 'source' | 'functionName'
>;

// KPL aggregated records start with these four bytes
// (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md).
const KPL_MAGIC = [0xf3, 0x89, 0x9a, 0xc2] as const;

// One buffer reused for every record: decoding is synchronous, so overlapping invocations never
// share it, and it saves allocating a Buffer per record (the hot path is base64 → text → JSON).
let scratch = Buffer.allocUnsafeSlow(64 * 1024);

/**
 * The byte count padded base64 of this length promises, or -1 if no padded base64 has it. Lambda
 * always sends padded base64; Buffer silently skips characters it does not know and `atob`
 * whitespace, so a decoded length below this count means the text was not plain base64.
 */
function expectedBytes(data: string): number {
  const length = data.length;
  if ((length & 3) !== 0) return -1;
  const padding =
    length === 0 || data.charCodeAt(length - 1) !== 61
      ? 0
      : data.charCodeAt(length - 2) === 61
        ? 2
        : 1;
  return (length >> 2) * 3 - padding;
}

/** Decodes base64 into `scratch`; returns the byte length, or -1 if the text is not base64. */
function decodeBase64(data: string): number {
  const expected = expectedBytes(data);
  if (expected > scratch.length) scratch = Buffer.allocUnsafeSlow(expected);
  // `expected` is -1 for text no padded base64 has, a count no write returns: refused too.
  return scratch.write(data, 'base64') === expected ? expected : -1;
}

/**
 * The text of a record whose data is plain base64 of ASCII bytes (most JSON), decoded in one step
 * by `atob`: about twice as fast as base64 into bytes and bytes into text. For ASCII the Latin-1
 * text `atob` makes is the UTF-8 text, so the string is the one the byte path would make. Anything
 * else (not base64, base64url, whitespace, a byte ≥ 0x80 as in UTF-8 text or a KPL aggregate)
 * gives `undefined` and takes the byte path, which decides what it is.
 */
function asciiText(data: string): string | undefined {
  const expected = expectedBytes(data);
  if (expected < 0 || (expected > 0 && !startsWithAsciiByte(data))) return undefined;
  let text: string;
  try {
    text = atob(data);
  } catch {
    return undefined;
  }
  // Shorter: `atob` skipped whitespace. A longer UTF-8 length: a character above U+007F.
  return text.length === expected && Buffer.byteLength(text, 'utf8') === expected
    ? text
    : undefined;
}

/**
 * Whether base64 `data` encodes a first byte below 0x80: its first character carries that byte's
 * top six bits, so it is one of `A`–`Z` or `a`–`f`. A KPL aggregate (0xF3…) is declined here
 * without decoding it twice.
 */
function startsWithAsciiByte(data: string): boolean {
  const code = data.charCodeAt(0);
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 102);
}

function isAggregated(byteLength: number): boolean {
  return (
    byteLength > 20 &&
    scratch[0] === KPL_MAGIC[0] &&
    scratch[1] === KPL_MAGIC[1] &&
    scratch[2] === KPL_MAGIC[2] &&
    scratch[3] === KPL_MAGIC[3]
  );
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * The error that says what is wrong with `Records[index]`, a record {@link checkRecordShapes} found
 * malformed: the first of its checks that fails, in the same order.
 */
function shapeError(record: KinesisEventRecord | undefined, index: number): InvalidEventError {
  const kinesis = record?.kinesis;
  const problem =
    typeof record !== 'object' || record === null
      ? ` is ${describe(record)}, not an object`
      : typeof kinesis !== 'object' || kinesis === null
        ? ` has no "kinesis" object (is this function wired to a Kinesis event source?)`
        : typeof kinesis.data !== 'string'
          ? `.kinesis.data is ${describe(kinesis.data)}, not a base64 string`
          : typeof kinesis.sequenceNumber !== 'string' || !isSequenceNumber(kinesis.sequenceNumber)
            ? `.kinesis.sequenceNumber is not a decimal string`
            : typeof kinesis.partitionKey !== 'string'
              ? `.kinesis.partitionKey is ${describe(kinesis.partitionKey)}, not a string`
              : `.kinesis.approximateArrivalTimestamp is ${describe(kinesis.approximateArrivalTimestamp)}, not epoch seconds`;
  return new InvalidEventError(`not a Kinesis event: Records[${index}]${problem}`);
}

/**
 * Checks every record's shape in one pass of type checks, sequence numbers included; only a record
 * that fails is looked at again, to say what is wrong with it.
 */
function checkRecordShapes(raws: readonly KinesisEventRecord[]): void {
  for (let i = 0; i < raws.length; i++) {
    const kinesis = raws[i]?.kinesis;
    if (
      typeof kinesis !== 'object' ||
      kinesis === null ||
      typeof kinesis.data !== 'string' ||
      typeof kinesis.sequenceNumber !== 'string' ||
      typeof kinesis.partitionKey !== 'string' ||
      typeof kinesis.approximateArrivalTimestamp !== 'number' ||
      !isSequenceNumber(kinesis.sequenceNumber)
    ) {
      throw shapeError(raws[i], i);
    }
  }
}

/** The UTF-8 text of the first `byteLength` bytes of `scratch`; throws on bad UTF-8. */
function scratchText(byteLength: number): string {
  const text = scratch.toString('utf8', 0, byteLength);
  // U+FFFD is what bad UTF-8 turns into; only then is the (rarer) full check worth it.
  if (text.indexOf('\uFFFD') !== -1 && !isUtf8(scratch.subarray(0, byteLength))) {
    throw new DecodeError('invalid UTF-8');
  }
  return text;
}

/**
 * Decodes the first `byteLength` bytes of `scratch`; throws what the decoder threw. Called once per
 * record, so it allocates nothing of its own: the value is returned and a failure is the exception.
 */
function decodeScratch<T>(
  fromBytes: (bytes: Uint8Array) => T,
  fromText: ((text: string) => T) | undefined,
  byteLength: number,
): T {
  return fromText === undefined
    ? fromBytes(Uint8Array.prototype.slice.call(scratch, 0, byteLength))
    : fromText(scratchText(byteLength));
}

/** A record (or KPL sub-record: its own data, key and sub-sequence number) that did not decode. */
function rejection(
  kinesis: KinesisEventRecord['kinesis'],
  reason: string,
  shardId: string,
  streamArn: string,
  data: string,
  partitionKey: string,
  sub?: number,
): RejectedRecord {
  return {
    id: deadLetterId(shardId, kinesis.sequenceNumber, sub),
    reason,
    data,
    partitionKey,
    sequenceNumber: kinesis.sequenceNumber,
    ...(sub === undefined ? {} : { subSequenceNumber: sub }),
    shardId,
    streamArn,
    arrivedAt: new Date(Math.round(kinesis.approximateArrivalTimestamp * 1000)).toISOString(),
    approximateArrivalTimestamp: kinesis.approximateArrivalTimestamp,
  };
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function shardOf(event: KinesisEvent): string {
  if (typeof event.shardId === 'string') return event.shardId;
  const eventId = event.Records[0]?.eventID;
  const separator = typeof eventId === 'string' ? eventId.indexOf(':') : -1;
  if (separator <= 0) {
    throw new InvalidEventError(
      'not a Kinesis event: Records[0].eventID is not "<shardId>:<sequenceNumber>"',
    );
  }
  return eventId!.slice(0, separator);
}

/**
 * Validates the event's shape, then decodes every record exactly once.
 * A record that fails to decode is rejected with its reason; the batch goes on.
 */
export function decodeEvent<T>(event: KinesisEvent, decoder: Decoder<T>): DecodedBatch<T> {
  if (typeof event !== 'object' || event === null || !Array.isArray(event.Records)) {
    throw new InvalidEventError(
      `not a Kinesis event: expected an object with a "Records" array, got ${describe(event)}${
        describe(event) === 'object' ? ` with keys [${Object.keys(event).join(', ')}]` : ''
      }`,
    );
  }
  const raws = event.Records;
  checkRecordShapes(raws);

  // One event holds records of one shard of one stream (docs/event-source-mapping.md#event-record).
  const shardId = raws.length > 0 || typeof event.shardId === 'string' ? shardOf(event) : '';
  const streamArn = raws[0]?.eventSourceARN ?? event.eventSourceARN ?? '';
  const fromBytes = typeof decoder === 'function' ? decoder : decoder.fromBytes;
  const fromText = typeof decoder === 'function' ? undefined : decoder.fromText;
  const records: DecodedRecord<T>[] = [];
  const rejected: RejectedRecord[] = [];

  const reject = (kinesis: KinesisEventRecord['kinesis'], reason: string): void => {
    rejected.push(
      rejection(kinesis, reason, shardId, streamArn, kinesis.data, kinesis.partitionKey),
    );
  };

  for (let i = 0; i < raws.length; i++) {
    const kinesis = (raws[i] as KinesisEventRecord).kinesis;
    const text = fromText === undefined ? undefined : asciiText(kinesis.data);
    // Only a record the text path declines goes through bytes, which tell what else it is.
    const byteLength = text === undefined ? decodeBase64(kinesis.data) : 0;
    if (byteLength < 0) {
      reject(kinesis, 'invalid base64');
      continue;
    }
    if (text === undefined && isAggregated(byteLength)) {
      decodeAggregate(kinesis, (sub) => {
        if ('reason' in sub) return reject(kinesis, sub.reason);
        const subLength = decodeBase64(sub.data);
        let value: T;
        try {
          if (subLength < 0) throw new Error('invalid base64');
          value = decodeScratch(fromBytes, fromText, subLength);
        } catch (error) {
          rejected.push(
            rejection(
              kinesis,
              reasonOf(error),
              shardId,
              streamArn,
              sub.data,
              sub.partitionKey,
              sub.subSequenceNumber,
            ),
          );
          return;
        }
        records.push(
          new DecodedRecord(
            value,
            sub.partitionKey,
            kinesis.sequenceNumber,
            sub.subSequenceNumber,
            shardId,
            kinesis.approximateArrivalTimestamp,
            records.length,
          ),
        );
      });
      continue;
    }
    let value: T;
    try {
      value =
        text === undefined
          ? decodeScratch(fromBytes, fromText, byteLength)
          : (fromText as (text: string) => T)(text);
    } catch (error) {
      reject(kinesis, reasonOf(error));
      continue;
    }
    records.push(
      new DecodedRecord(
        value,
        kinesis.partitionKey,
        kinesis.sequenceNumber,
        undefined,
        shardId,
        kinesis.approximateArrivalTimestamp,
        records.length,
      ),
    );
  }

  const last = raws[raws.length - 1]?.kinesis;
  const window =
    event.window === undefined
      ? undefined
      : raws.length > 0
        ? `${event.window.start}|${event.window.end}`
        : `${event.window.start}|${event.window.end}|${event.isFinalInvokeForWindow === true}|${event.isWindowTerminatedEarly === true}|${JSON.stringify(event.state ?? {})}`;
  return {
    window,
    shardId,
    streamArn,
    records,
    rejected,
    firstSequenceNumber: raws[0]?.kinesis.sequenceNumber,
    lastSequenceNumber: last?.sequenceNumber,
    lastArrivalSeconds: last?.approximateArrivalTimestamp,
  };
}

interface SubRecord {
  readonly partitionKey: string;
  readonly subSequenceNumber: number;
  readonly data: string;
}

type Deaggregate = (
  record: { partitionKey: string; sequenceNumber: string; data: string },
  computeChecksums: boolean,
  done: (error: Error | null | undefined, records?: SubRecord[]) => void,
) => void;

let deaggregateSync: Deaggregate | undefined;

/**
 * De-aggregates a KPL record with `aws-kinesis-agg`, loaded on first use so functions that never
 * see an aggregate skip its start-up cost (the constructs ship it beside the function bundle, not
 * in it: `lib/function-bundle.ts`). Sub-records keep the parent's sequence number and their own
 * sub-sequence number; a corrupt aggregate is rejected whole.
 */
function decodeAggregate(
  kinesis: KinesisEventRecord['kinesis'],
  onSubRecord: (sub: SubRecord | { reason: string }) => void,
): void {
  deaggregateSync ??= (require('aws-kinesis-agg/lib/kpl-deagg') as { deaggregateSync: Deaggregate })
    .deaggregateSync;
  let subRecords: SubRecord[] | undefined;
  let failure: string | undefined;
  deaggregateSync(
    {
      partitionKey: kinesis.partitionKey,
      sequenceNumber: kinesis.sequenceNumber,
      data: kinesis.data,
    },
    true,
    (error, userRecords) => {
      if (error) failure ??= `invalid KPL aggregate: ${error.message}`;
      else subRecords = userRecords;
    },
  );
  if (subRecords === undefined) {
    onSubRecord({ reason: failure ?? 'invalid KPL aggregate' });
    return;
  }
  for (const sub of subRecords) onSubRecord(sub);
}
