import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describeError } from './read-context';

/** An object of a listing: its key, and when it was last written (epoch milliseconds). */
export interface ListedObject {
  readonly key: string;
  readonly lastModified: number;
}

/**
 * Whether the object was last written before `time` (epoch ms). S3's LastModified has whole
 * seconds, so an object written in the second of `time` does not count as before it.
 */
export function writtenBefore(object: ListedObject, time: number): boolean {
  return object.lastModified + 1000 < time;
}

/** Every object of `bucket` under `prefix`, page by page. */
export async function listObjects(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      objects.push({
        key: object.Key,
        lastModified: object.LastModified?.getTime() ?? Number.POSITIVE_INFINITY,
      });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

/** An object's body as text; undefined when the object is gone (deleted since it was listed). */
export async function readObject(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<string | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    if (error instanceof Error && error.name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** Deletes one object; resolves false when S3 refused (the object stays, nothing is lost). */
export async function deleteObject(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  return s3
    .send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))
    .then(() => true)
    .catch(() => false);
}

/** `s3://bucket/key` → bucket and key; undefined for anything else. */
export function parseS3Url(url: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(url);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/** The message of a read error that names what to check: the endpoint, the bucket, the grants. */
export function unreadableBucket(what: string, error: unknown): string {
  return `cannot read ${what} (${describeError(error)}): check the endpoint, that the bucket exists and that you may list and read it (s3:ListBucket, s3:GetObject)`;
}
