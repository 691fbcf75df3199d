import { fail } from '../cli-error';
import { parseFileLine } from '../run/file-line';
import { fileLines } from '../run/read-file-batches';
import { bytesOf, defaultPartitionKey } from '../run/synthetic-events';
import type { GeneratedData } from './record-generator';

/** One record to put: its bytes, its partition key, and where it came from (for messages). */
export interface OutgoingRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly where: string;
}

/** How a record's partition key is chosen: from a field of its data, or as `driverless run` does. */
export interface PartitionKeyRule {
  /** `--partition-key <field>`: a field of the record's JSON data (`a.b` for a nested one). */
  readonly field?: string;
}

function dataBytes(data: GeneratedData): Buffer {
  return data instanceof Uint8Array ? Buffer.from(data) : bytesOf(data);
}

/** The value of `field` (dotted) in the JSON `data`, or undefined. */
function fieldOf(data: unknown, field: string): unknown {
  let value: unknown = data;
  for (const part of field.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The partition key of the `index`-th record: the `--partition-key` field of its data when given
 * (a string or number; anything else exits 2 naming the record), else the key the line gives, else
 * the index, as `driverless run` numbers a file's records. Keys by index spread records evenly
 * over shards, since Kinesis hashes the key.
 */
export function partitionKeyOf(
  data: unknown,
  given: string | undefined,
  index: number,
  rule: PartitionKeyRule,
  where: string,
): string {
  if (rule.field === undefined) return given ?? defaultPartitionKey(index);
  let value = fieldOf(data, rule.field);
  if (value === undefined && (typeof data === 'string' || data instanceof Uint8Array)) {
    // Raw data may still be JSON text.
    try {
      value = fieldOf(JSON.parse(Buffer.from(data).toString('utf8')), rule.field);
    } catch {
      // Not JSON: no field.
    }
  }
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(
    `${where}: --partition-key ${rule.field} needs a non-empty string or number field ${rule.field} in the record's data (given ${value === undefined ? 'none' : JSON.stringify(value)})`,
  );
}

/**
 * The records of a `driverless run` file, in order: a record line is one record, a saved event's
 * records are put again with their own data and keys. Lines are parsed by `run`'s parser, so a
 * file `run` accepts is one `put` accepts; a bad line exits 2 naming it.
 */
export async function* fileRecords(
  path: string,
  rule: PartitionKeyRule,
): AsyncGenerator<OutgoingRecord> {
  let index = 0;
  for await (const { line, lineNumber } of fileLines(path)) {
    const where = `line ${lineNumber} of ${path}`;
    const parsed = parseFileLine(line, where, index);
    if (parsed?.kind === 'record') {
      const { data, partitionKey } = parsed.record;
      yield {
        data: dataBytes(data),
        partitionKey: partitionKeyOf(data, partitionKey, index, rule, where),
        where,
      };
      index += 1;
    } else if (parsed?.kind === 'event') {
      for (const record of parsed.event.Records) {
        const bytes = Buffer.from(record.kinesis.data, 'base64');
        yield {
          data: bytes,
          partitionKey: partitionKeyOf(bytes, record.kinesis.partitionKey, index, rule, where),
          where,
        };
        index += 1;
      }
    }
  }
}

/** Records from a generator's data, keyed by `rule` (by index when no field is given). */
export async function* generatedRecords(
  data: AsyncIterable<GeneratedData>,
  rule: PartitionKeyRule,
  module: string,
): AsyncGenerator<OutgoingRecord> {
  let index = 0;
  for await (const value of data) {
    const where = `record ${index} of ${module}`;
    if (value === null || value === undefined)
      fail(`${where} is ${String(value)}: a generator makes JSON data, a string or bytes`);
    yield {
      data: dataBytes(value),
      partitionKey: partitionKeyOf(value, undefined, index, rule, where),
      where,
    };
    index += 1;
  }
}
