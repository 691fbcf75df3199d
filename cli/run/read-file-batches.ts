import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import { fail } from '../cli-error';
import { parseFileLine } from './file-line';
import { fileEventRecord, streamArn, streamNameOfFile } from './synthetic-events';

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

/** Why reading stopped, in words a user can act on, naming the file and the last whole line. */
function readProblem(path: string, gzip: boolean, lines: number, error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  const after =
    lines === 0 ? 'before its first line' : `after line ${lines.toLocaleString('en-US')}`;
  // zlib's codes: the input ended inside the compressed stream, or it is not deflate data.
  if (gzip && code === 'Z_BUF_ERROR')
    return `${path} is a truncated gzip: it ends ${after} (${message})`;
  if (gzip && typeof code === 'string' && code.startsWith('Z_'))
    return `${path} is not a valid gzip: it breaks ${after} (${message})`;
  return `cannot read ${path} ${after} (${code ?? message})`;
}

/**
 * The lines of a file (gzip by extension or magic bytes), numbered from 1. A read or
 * decompression error fails with exit 2 naming the file and the last line read whole.
 */
export async function* fileLines(
  path: string,
  progress?: FileProgress,
): AsyncGenerator<{ readonly line: string; readonly lineNumber: number }> {
  const gzip = await isGzip(path);
  // Everything is wired in one tick: a stream that starts flowing early would lose data.
  const raw = createReadStream(path);
  const text = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (error) => text.destroy(error));
  const lines = createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
  raw.on('data', (chunk) => {
    if (progress) progress.bytesRead += chunk.length;
  });
  let lineNumber = 0;
  let iterator: AsyncIterator<string> | undefined;
  try {
    iterator = lines[Symbol.asyncIterator]();
    while (true) {
      let next: IteratorResult<string>;
      try {
        next = await iterator.next();
      } catch (error) {
        fail(readProblem(path, gzip, lineNumber, error));
      }
      if (next.done) return;
      lineNumber += 1;
      yield { line: next.value, lineNumber };
    }
  } finally {
    lines.close();
    raw.destroy();
  }
}

/** What {@link checkFile} found: how many records and saved events the file holds. */
export interface FileContents {
  readonly records: number;
  readonly events: number;
}

/**
 * Reads the whole file once before anything runs: every line must be a record or a saved event
 * Kinesis and Lambda could have produced, and a gzip must decompress to its end. Bad input then
 * stops a run before its first invocation (exit 2, naming the file and the line) rather than
 * halfway through, with half the records' effects applied.
 */
export async function checkFile(path: string, progress?: FileProgress): Promise<FileContents> {
  let records = 0;
  let events = 0;
  for await (const { line, lineNumber } of fileLines(path, progress)) {
    const parsed = parseFileLine(line, `line ${lineNumber} of ${path}`, records);
    if (parsed?.kind === 'record') records += 1;
    else if (parsed?.kind === 'event') events += 1;
  }
  return { records, events };
}

/**
 * Reads a file of records or saved Kinesis events line by line (gzip by extension or magic
 * bytes) and yields the events to invoke: records grouped `batchSize` at a time on one
 * synthetic shard, and each saved event as it was saved. Fails with exit 2 on a line that is
 * neither, or on a read error, naming the file and the line.
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
  let pending: KinesisEventRecord[] = [];
  let recordIndex = 0;
  for await (const { line, lineNumber } of fileLines(path, options.progress)) {
    const parsed = parseFileLine(line, `line ${lineNumber} of ${path}`, recordIndex);
    if (parsed?.kind === 'event') {
      if (pending.length > 0) yield { Records: pending };
      pending = [];
      yield parsed.event;
    } else if (parsed?.kind === 'record') {
      pending.push(fileEventRecord(parsed.record, recordIndex, file));
      recordIndex += 1;
      if (pending.length >= options.batchSize) {
        yield { Records: pending };
        pending = [];
      }
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
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT') fail(`--file ${path} does not exist`);
    if (code !== undefined) fail(`cannot read --file ${path} (${code})`);
    throw error;
  }
}
