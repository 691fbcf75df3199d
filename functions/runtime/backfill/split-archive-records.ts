/**
 * One record read from an archive object: its 1-based number within the object and its bytes.
 * For newline-delimited text the number is the line number; for JSON values (delimited by
 * newlines or concatenated with nothing between them) it is the value's ordinal.
 */
export interface ArchiveRecord {
  readonly number: number;
  readonly data: Buffer;
}

/**
 * The largest record handed on. A Kinesis record carries at most 1 MiB and a Firehose record at
 * most 1,000 KiB, so anything longer cannot be one record; it is handed on in pieces of this size,
 * each of which the decoder dead-letters, rather than held in memory whole.
 * @see https://docs.aws.amazon.com/firehose/latest/dev/limits.html
 */
export const MAX_ARCHIVE_RECORD_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

const isSpace = (byte: number) =>
  byte === 0x20 || byte === 0x09 || byte === NEWLINE || byte === CARRIAGE_RETURN;
const isOpener = (byte: number) => byte === OPEN_OBJECT || byte === OPEN_ARRAY;
const closerOf = (opener: number) => (opener === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY);

/** Bytes of the record being read, bounded by {@link MAX_ARCHIVE_RECORD_BYTES}. */
class RecordBytes {
  private parts: Buffer[] = [];
  private length = 0;

  get size(): number {
    return this.length;
  }

  add(chunk: Buffer, from: number, to: number): void {
    if (to > from) {
      this.parts.push(chunk.subarray(from, to));
      this.length += to - from;
    }
  }

  take(): Buffer {
    const data = Buffer.concat(this.parts, this.length);
    this.parts = [];
    this.length = 0;
    return data;
  }
}

/**
 * Splits an archive object's bytes (already gunzipped) into records, streaming: only the record
 * being read is held. The format is detected from the content:
 *
 * - **JSON values** when the first non-space byte opens an object or array. Values are split by
 *   a scanner that follows strings, escapes and nesting, so braces inside strings and values cut
 *   across chunks are read right. Whitespace (newlines included) between values is skipped, so
 *   this reads both NDJSON and Firehose's raw format (records concatenated with no delimiter,
 *   which a delivery stream writes without the AppendDelimiterToRecord processor).
 * - **Lines** otherwise (newline-delimited text, as Firehose writes with a delimiter); empty
 *   lines are skipped but counted.
 *
 * Bytes that are not a JSON value are never dropped: each run of them becomes one record (which a
 * JSON decoder dead-letters). A run ends at the next newline once the object has shown a newline
 * between two values (NDJSON: a bad line), otherwise at the next `{` or `[` between values. A
 * closing bracket that does not match ends the value it is in, and a value cut off by the end of
 * the object (a corrupt tail) is a record as it is.
 */
export async function* splitArchiveRecords(
  chunks: AsyncIterable<Uint8Array>,
  maxRecordBytes: number = MAX_ARCHIVE_RECORD_BYTES,
): AsyncGenerator<ArchiveRecord> {
  let format: 'unknown' | 'json' | 'lines' = 'unknown';
  let number = 0;
  const record = new RecordBytes();

  // Line state: whether the line read so far is only whitespace (such lines are skipped).
  let lineBlank = true;

  // JSON state. `stack` holds the open brackets of the current value; `garbage` is a run of bytes
  // between values that is not JSON; `newlineDelimited` is set once a newline separated two values.
  const stack: number[] = [];
  let inString = false;
  let escaped = false;
  let garbage = false;
  let valuesSeen = 0;
  let newlineSinceValue = false;
  let newlineDelimited = false;

  for await (const piece of chunks) {
    const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
    const out: ArchiveRecord[] = [];
    // Where the current record's bytes start within this chunk (-1: none pending here); a value
    // or run cut by the previous chunk's end goes on from this chunk's first byte.
    let start = format === 'json' && (stack.length > 0 || garbage) ? 0 : -1;
    const flush = (end: number, dropCarriageReturn = false) => {
      if (start >= 0) record.add(chunk, start, end);
      start = -1;
      number += 1;
      const data = record.take();
      // A CRLF line ends with its carriage return, which may have come in the previous chunk.
      const cut = dropCarriageReturn && data[data.length - 1] === CARRIAGE_RETURN;
      out.push({ number, data: cut ? data.subarray(0, -1) : data });
    };
    const keep = (end: number) => {
      if (start >= 0) record.add(chunk, start, end);
      start = -1;
    };

    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (format === 'unknown') {
        if (isSpace(byte)) {
          if (byte === NEWLINE) {
            // Leading empty lines: a line-format object counts them.
            number += 1;
            newlineSinceValue = true;
          }
          continue;
        }
        format = isOpener(byte) ? 'json' : 'lines';
        if (format === 'json') number = 0;
      }

      if (format === 'lines') {
        if (byte === NEWLINE) {
          if (lineBlank) {
            start = -1;
            record.take();
            number += 1;
          } else {
            flush(i, true);
          }
          lineBlank = true;
          continue;
        }
        if (start < 0) start = i;
        if (!isSpace(byte)) lineBlank = false;
      } else if (stack.length > 0) {
        // Inside a value.
        if (byte === NEWLINE && newlineDelimited) {
          // JSON escapes newlines in strings, so one between the brackets of an NDJSON value
          // means its line was cut short: the line is one record, the next line a new value.
          flush(i);
          stack.length = 0;
          inString = false;
          escaped = false;
          newlineSinceValue = true;
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (byte === BACKSLASH) escaped = true;
          else if (byte === QUOTE) inString = false;
        } else if (byte === QUOTE) {
          inString = true;
        } else if (isOpener(byte)) {
          stack.push(byte);
        } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
          const opener = stack.pop() as number;
          if (byte !== closerOf(opener)) stack.length = 0;
          if (stack.length === 0) {
            flush(i + 1);
            valuesSeen += 1;
            newlineSinceValue = false;
            inString = false;
            continue;
          }
        }
      } else if (garbage) {
        const ends = newlineDelimited ? byte === NEWLINE : isOpener(byte);
        if (ends) {
          flush(i);
          garbage = false;
          if (byte === NEWLINE) {
            newlineSinceValue = true;
            continue;
          }
          stack.push(byte);
          start = i;
          continue;
        }
      } else if (isSpace(byte)) {
        if (byte === NEWLINE) newlineSinceValue = true;
        continue;
      } else {
        // A value (or a run that is not one) begins between values.
        if (valuesSeen > 0 && newlineSinceValue) newlineDelimited = true;
        newlineSinceValue = false;
        start = i;
        if (isOpener(byte)) stack.push(byte);
        else garbage = true;
      }

      // Bound memory: a record longer than any record can be is handed on in pieces.
      if (start >= 0 && record.size + (i + 1 - start) >= maxRecordBytes) {
        flush(i + 1);
        start = i + 1;
      }
    }
    keep(chunk.length);
    yield* out;
  }

  if (record.size > 0 && !(format === 'lines' && lineBlank)) {
    number += 1;
    yield { number, data: record.take() };
  }
}
