import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type * as S3 from '@aws-sdk/client-s3';
import { type KinesisEventRecord, kinesisEventRecord } from '../../kinesis/index';
import type { ArchiveSlice } from './backfill-event';
import type { SliceBatch } from './slice-batch';
import { splitArchiveRecords } from './split-archive-records';

/** How an archive slice reaches S3; a seam for tests. */
export interface ArchiveReadOptions {
  readonly client: S3.S3Client;
  readonly batchSize: number;
  readonly outOfTime: () => boolean;
  readonly region: string;
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** The object's bytes, gunzipped when it starts with gzip's magic bytes. */
async function bytesOf(body: Readable): Promise<AsyncIterable<Uint8Array>> {
  // Peek at the first chunk for the magic, then put it back so the splitter sees every byte.
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer | undefined = first.done ? undefined : Buffer.from(first.value);
  const raw = new PassThrough();
  (async () => {
    try {
      if (head) raw.write(head);
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        // Backpressure: never hold more of the object than the splitter has asked for.
        if (!raw.write(next.value)) await new Promise((resolve) => raw.once('drain', resolve));
      }
      raw.end();
    } catch (error) {
      raw.destroy(error as Error);
    }
  })();
  const gzipped = head !== undefined && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  if (!gzipped) return raw;
  const plain = raw.pipe(createGunzip());
  raw.on('error', (error) => plain.destroy(error));
  return plain;
}

/**
 * Reads archive objects (gzipped or not; NDJSON or newline-delimited text as Firehose writes with
 * a delimiter, or JSON records concatenated with none, Firehose's raw format; see
 * {@link splitArchiveRecords}) from `keyIndex`, record after `line`, batch by batch. Each object
 * is a shard of its own: its key is the batches' `shardId` and its record numbers (line numbers
 * for text, value ordinals for JSON) their sequence numbers, so cursors and partial failures work
 * as on a stream. A batch never spans two objects, and only one batch of records is held at a
 * time (the object is streamed).
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
      for await (const record of splitArchiveRecords(await bytesOf(body))) {
        line = record.number;
        if (line <= skip) continue;
        records.push(
          kinesisEventRecord({
            shardId: key,
            sequenceNumber: String(line),
            partitionKey: key,
            data: record.data.toString('base64'),
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
