import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type * as S3 from '@aws-sdk/client-s3';
import { type KinesisEventRecord, kinesisEventRecord } from '../../kinesis/index';
import type { ArchiveSlice } from './backfill-event';
import type { SliceBatch } from './slice-batch';

/** How an archive slice reaches S3; a seam for tests. */
export interface ArchiveReadOptions {
  readonly client: S3.S3Client;
  readonly batchSize: number;
  readonly outOfTime: () => boolean;
  readonly region: string;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** The object's body as lines of text, gunzipped when it starts with gzip's magic bytes. */
async function linesOf(body: Readable): Promise<AsyncIterable<string>> {
  // Peek at the first chunk for the magic, then put it back so the line reader sees every byte.
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer | undefined = first.done ? undefined : Buffer.from(first.value);
  const raw = new PassThrough();
  (async () => {
    try {
      if (head) raw.write(head);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        // Backpressure: never hold more of the object than the line reader has asked for.
        if (!raw.write(next.value)) await new Promise((resolve) => raw.once('drain', resolve));
      }
      raw.end();
    } catch (error) {
      raw.destroy(error as Error);
    }
  })();
  const gzipped = head !== undefined && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const text = gzipped ? raw.pipe(createGunzip()) : raw;
  if (gzipped) raw.on('error', (error) => text.destroy(error));
  return createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY });
}

/**
 * Reads archive objects (one record per line: NDJSON as Firehose writes it with a newline after
 * each record, gzipped or not) from `keyIndex`, line after `line`, batch by batch. Each object is
 * a shard of its own: its key is the batches' `shardId` and its line numbers their sequence
 * numbers, so cursors and partial failures work as on a stream. A batch never spans two objects,
 * and only one batch of lines is held at a time (the object is streamed).
 */
export async function* readArchiveSlice(
  slice: ArchiveSlice,
  start: { readonly keyIndex: number; readonly line: number },
  options: ArchiveReadOptions,
): AsyncGenerator<SliceBatch, { complete: boolean }> {
  const sdk = require('@aws-sdk/client-s3') as typeof S3;
  const streamArn = `arn:aws:s3:::${slice.bucket}`;
  for (let keyIndex = start.keyIndex; keyIndex < slice.keys.length; keyIndex++) {
    if (options.outOfTime()) return { complete: false };
    const key = slice.keys[keyIndex] as string;
    const skip = keyIndex === start.keyIndex ? start.line : 0;
    const object = await options.client.send(
      new sdk.GetObjectCommand({ Bucket: slice.bucket, Key: key }),
    );
    // Firehose keeps no arrival time per record: the object's is the closest there is.
    const arrival = (object.LastModified?.getTime() ?? Date.now()) / 1000;
    let records: KinesisEventRecord[] = [];
    let line = 0;
    const batchOf = (last: number): SliceBatch => ({
      shardId: key,
      streamArn,
      records,
      continuation: { keyIndex, line: last },
    });
    const body = object.Body as Readable;
    try {
      for await (const text of await linesOf(body)) {
        line += 1;
        if (line <= skip || text.trim() === '') continue;
        records.push(
          kinesisEventRecord({
            shardId: key,
            sequenceNumber: String(line),
            partitionKey: key,
            data: Buffer.from(text, 'utf8').toString('base64'),
            approximateArrivalTimestamp: arrival,
            awsRegion: options.region,
            eventSourceARN: streamArn,
          }),
        );
        if (records.length === options.batchSize) {
          yield batchOf(line);
          records = [];
          if (options.outOfTime()) return { complete: false };
        }
      }
    } finally {
      // Stopping mid-object (out of time, or the consumer gave up): release the connection.
      body.destroy();
    }
    if (records.length > 0) yield batchOf(line);
    records = [];
  }
  return { complete: true };
}
