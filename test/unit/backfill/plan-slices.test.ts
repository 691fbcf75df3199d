import { type KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  hourOfKey,
  parseArchiveUrl,
  planArchiveSlices,
  planStreamSlices,
} from '../../../cli/backfill/plan-slices';

const STREAM = 'arn:aws:kinesis:us-east-1:123456789012:stream/views';

describe('planStreamSlices', () => {
  it('cuts every shard into equal spans and makes children wait for every slice of their parents', async () => {
    // given: a shard split into two children
    const kinesis = {
      send: async (command: unknown) => {
        if (!(command instanceof ListShardsCommand)) throw new Error('unexpected');
        return {
          Shards: [
            { ShardId: 'p' },
            { ShardId: 'c1', ParentShardId: 'p' },
            { ShardId: 'c2', ParentShardId: 'p' },
          ],
        };
      },
    } as unknown as KinesisClient;
    // when
    const plan = await planStreamSlices(kinesis, STREAM, { fromMs: 0, toMs: 3000 }, () => 2);
    // then
    expect(
      plan.map((p) => [
        p.slice.id,
        p.slice.kind === 'shard' && [p.slice.fromMs, p.slice.toMs],
        p.after,
      ]),
    ).toStrictEqual([
      ['p#1of2', [0, 1500], []],
      ['p#2of2', [1500, 3000], []],
      ['c1#1of2', [0, 1500], ['p#1of2', 'p#2of2']],
      ['c1#2of2', [1500, 3000], ['p#1of2', 'p#2of2']],
      ['c2#1of2', [0, 1500], ['p#1of2', 'p#2of2']],
      ['c2#2of2', [1500, 3000], ['p#1of2', 'p#2of2']],
    ]);
  });
});

describe('planArchiveSlices', () => {
  const s3 = {
    send: async (command: unknown) => {
      if (!(command instanceof ListObjectsV2Command)) throw new Error('unexpected');
      return {
        Contents: [
          { Key: 'records/v/2026/01/15/11/c.gz', Size: 30 },
          { Key: 'records/v/2026/01/15/09/a.gz', Size: 10 },
          { Key: 'records/v/2026/01/15/10/b.gz', Size: 20 },
          { Key: 'records/v/2026/01/15/12/d.gz', Size: 40 },
        ],
      };
    },
  } as unknown as S3Client;

  it('groups objects in key order into as many slices as the fan-out asks', async () => {
    // when
    const plan = await planArchiveSlices(s3, { bucket: 'b', prefix: 'records/v/' }, {}, 2);
    // then
    expect(plan.map((p) => [p.slice.kind === 'archive' && p.slice.keys, p.bytes])).toStrictEqual([
      [['records/v/2026/01/15/09/a.gz', 'records/v/2026/01/15/10/b.gz'], 30],
      [['records/v/2026/01/15/11/c.gz', 'records/v/2026/01/15/12/d.gz'], 70],
    ]);
  });

  it('keeps only the hours that overlap the range', async () => {
    // when
    const plan = await planArchiveSlices(
      s3,
      { bucket: 'b', prefix: 'records/v/' },
      { fromMs: Date.UTC(2026, 0, 15, 10, 30), toMs: Date.UTC(2026, 0, 15, 12) },
      10,
    );
    // then
    expect(plan.flatMap((p) => (p.slice.kind === 'archive' ? p.slice.keys : []))).toStrictEqual([
      'records/v/2026/01/15/10/b.gz',
      'records/v/2026/01/15/11/c.gz',
    ]);
  });
});

describe('archive locations', () => {
  it('reads the hour a key of the archive layout names', () => {
    // then
    expect(hourOfKey('records/v/2026/01/15/09/x.gz')).toBe(Date.UTC(2026, 0, 15, 9));
    expect(hourOfKey('loose/x.gz')).toBeUndefined();
  });

  it('fails if the archive is not an s3:// URL, naming it', () => {
    // then
    expect(() => parseArchiveUrl('https://b/p')).toThrow(
      '--archive must be s3://<bucket>/<prefix> (given https://b/p)',
    );
  });
});
