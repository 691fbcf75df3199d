import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type {
  ArchiveSlice,
  BackfillSlice,
  ShardSlice,
} from '../../functions/runtime/backfill/backfill-event';
import { fail } from '../cli-error';

/** A slice of the plan, with what must finish before it and what `--dry-run` shows of it. */
export interface PlannedSlice {
  readonly slice: BackfillSlice;
  /** Slices (ids) of the parent shards: a child shard's records come after its parents'. */
  readonly after: readonly string[];
  /** Archive slices: bytes and objects; shard slices: the span of arrival time. */
  readonly bytes?: number;
  readonly objects?: number;
  readonly spanMs?: number;
}

/** An archive object at most this large per slice (a slice's objects are read by one invocation). */
const SLICE_BYTES = 128 * 1024 * 1024;
/** Keys per archive slice at most, so a slice's row in the progress table stays small. */
const SLICE_KEYS = 100;

async function listShards(kinesis: KinesisClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  const streamName = streamArn.slice(streamArn.indexOf(':stream/') + ':stream/'.length);
  let token: string | undefined;
  do {
    const page = await kinesis.send(
      token === undefined
        ? new ListShardsCommand({ StreamName: streamName })
        : new ListShardsCommand({ NextToken: token }),
    );
    shards.push(...(page.Shards ?? []));
    token = page.NextToken;
  } while (token);
  return shards;
}

/**
 * Slices of a stream's time range: every shard (open or closed; one with nothing in the range
 * ends at its first read), each cut into `partsPerShard` equal spans of arrival time, so
 * `partsPerShard` invocations read one shard at once. A child shard's slices wait for all slices
 * of its parents, as Lambda reads parents before children.
 */
export async function planStreamSlices(
  kinesis: KinesisClient,
  streamArn: string,
  range: { readonly fromMs: number; readonly toMs: number },
  partsPerShard: (shards: number) => number,
): Promise<PlannedSlice[]> {
  const shards = await listShards(kinesis, streamArn);
  if (shards.length === 0) fail(`stream ${streamArn} has no shards`);
  const parts = Math.max(1, partsPerShard(shards.length));
  const span = range.toMs - range.fromMs;
  const idsOf = new Map<string, string[]>();
  const planned: { slice: ShardSlice; parents: string[] }[] = [];
  for (const shard of shards) {
    const shardId = shard.ShardId ?? '';
    const ids: string[] = [];
    for (let part = 0; part < parts; part++) {
      const fromMs = range.fromMs + Math.floor((span * part) / parts);
      const toMs =
        part === parts - 1 ? range.toMs : range.fromMs + Math.floor((span * (part + 1)) / parts);
      if (fromMs >= toMs) continue;
      const id = parts === 1 ? shardId : `${shardId}#${part + 1}of${parts}`;
      ids.push(id);
      planned.push({
        slice: { kind: 'shard', id, streamArn, shardId, fromMs, toMs },
        parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter(
          (parent): parent is string => parent !== undefined,
        ),
      });
    }
    idsOf.set(shardId, ids);
  }
  return planned.map(({ slice, parents }) => ({
    slice,
    after: parents.flatMap((parent) => idsOf.get(parent) ?? []),
    spanMs: slice.toMs - slice.fromMs,
  }));
}

/** `s3://bucket/prefix` → bucket and prefix; exit 2 for anything else. */
export function parseArchiveUrl(url: string): { bucket: string; prefix: string } {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!match) fail(`--archive must be s3://<bucket>/<prefix> (given ${url})`);
  return { bucket: match[1] as string, prefix: match[2] ?? '' };
}

/** The hour an archive object's key names (`…/YYYY/MM/DD/HH/…`), epoch ms, if it names one. */
export function hourOfKey(key: string): number | undefined {
  const match = /(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(key);
  if (!match) return undefined;
  const [, y, m, d, h] = match.map(Number) as [number, number, number, number, number];
  return Date.UTC(y, m - 1, d, h);
}

const HOUR_MS = 3_600_000;

/**
 * Slices of an archive prefix: its objects in key order (the date partitions make that time
 * order), narrowed to the hours that overlap [from, to) when a range is given, grouped so each
 * slice holds at most {@link SLICE_BYTES} and {@link SLICE_KEYS} objects and there are at least
 * `fanOut` slices when there are that many objects.
 */
export async function planArchiveSlices(
  s3: S3Client,
  location: { readonly bucket: string; readonly prefix: string },
  range: { readonly fromMs?: number; readonly toMs?: number },
  fanOut: number,
): Promise<PlannedSlice[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: location.bucket,
        Prefix: location.prefix,
        ContinuationToken: token,
      }),
    );
    for (const object of page.Contents ?? []) {
      const key = object.Key ?? '';
      const hour = hourOfKey(key);
      const inRange =
        hour === undefined ||
        ((range.fromMs === undefined || hour + HOUR_MS > range.fromMs) &&
          (range.toMs === undefined || hour < range.toMs));
      if (key !== '' && !key.endsWith('/') && inRange)
        objects.push({ key, size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const perSlice = Math.min(
    SLICE_KEYS,
    Math.max(1, Math.ceil(objects.length / Math.max(1, fanOut))),
  );
  const slices: PlannedSlice[] = [];
  let group: typeof objects = [];
  const flush = () => {
    if (group.length === 0) return;
    const slice: ArchiveSlice = {
      kind: 'archive',
      id: `archive-${String(slices.length + 1).padStart(5, '0')}`,
      bucket: location.bucket,
      keys: group.map((o) => o.key),
    };
    slices.push({
      slice,
      after: [],
      bytes: group.reduce((sum, o) => sum + o.size, 0),
      objects: group.length,
    });
    group = [];
  };
  let bytes = 0;
  for (const object of objects) {
    if (group.length === perSlice || (group.length > 0 && bytes + object.size > SLICE_BYTES)) {
      flush();
      bytes = 0;
    }
    group.push(object);
    bytes += object.size;
  }
  flush();
  return slices;
}
