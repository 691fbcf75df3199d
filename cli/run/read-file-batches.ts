import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import { fail } from '../cli-error';
import { type FileRecord, fileEventRecord, streamArn, streamNameOfFile } from './synthetic-events';

/** How far through the file reading is, in bytes of the file as stored (compressed or not). */
export interface FileProgress {
  bytesRead: number;
  readonly totalBytes: number;
}

async function isGzip(path: string): Promise<boolean> {
  if (path.endsWith('.gz')) return true;
  const handle = await open(path, 'r');
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await handle.read(magic, 0, 2, 0);
    return bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

function isRecordLine(value: unknown): value is FileRecord {
  if (typeof value !== 'object' || value === null || !('data' in value)) return false;
  const { partitionKey, sequenceNumber, arrivedAt } = value as Record<string, unknown>;
  return (
    (partitionKey === undefined || typeof partitionKey === 'string') &&
    (sequenceNumber === undefined ||
      (typeof sequenceNumber === 'string' && /^\d+$/.test(sequenceNumber))) &&
    (arrivedAt === undefined ||
      (typeof arrivedAt === 'string' && !Number.isNaN(Date.parse(arrivedAt))))
  );
}

function isEventLine(value: unknown): value is KinesisEvent {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { Records?: unknown }).Records)
  );
}

/**
 * Reads a file of records or saved Kinesis events line by line (gzip by extension or magic
 * bytes) and yields the events to invoke: records grouped `batchSize` at a time on one
 * synthetic shard, and each saved event as it was saved. Fails with exit 2 on a line that is
 * neither, naming the line.
 */
export async function* readFileBatches(
  path: string,
  options: {
    readonly batchSize: number;
    readonly region: string;
    readonly progress?: FileProgress;
  },
): AsyncGenerator<KinesisEvent> {
  const file = {
    streamArn: streamArn(options.region, streamNameOfFile(path)),
    region: options.region,
  };
  const gzip = await isGzip(path);
  // Everything is wired in one tick: a stream that starts flowing early would lose data.
  const raw = createReadStream(path);
  const text = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => text.destroy(error));
  const lines = createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
  raw.on('data', (chunk) => {
    if (options.progress) options.progress.bytesRead += chunk.length;
  });
  let pending: KinesisEventRecord[] = [];
  let recordIndex = 0;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      fail(
        `line ${lineNumber} of ${path} is not JSON: each line is a record {"data": ...} or a Kinesis event {"Records": [...]}`,
      );
    }
    if (isEventLine(value)) {
      if (pending.length > 0) yield { Records: pending };
      pending = [];
      yield value;
    } else if (isRecordLine(value)) {
      pending.push(fileEventRecord(value, recordIndex, file));
      recordIndex += 1;
      if (pending.length >= options.batchSize) {
        yield { Records: pending };
        pending = [];
      }
    } else {
      fail(
        `line ${lineNumber} of ${path} is neither a record {"data": ..., "partitionKey"?, "sequenceNumber"? (digits), "arrivedAt"? (ISO-8601)} nor a Kinesis event {"Records": [...]}`,
      );
    }
  }
  if (pending.length > 0) yield { Records: pending };
}

/** The size of a file, failing with exit 2 when it cannot be read. */
export async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) fail(`--file ${path} is not a file`);
    return info.size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') fail(`--file ${path} does not exist`);
    throw error;
  }
}
