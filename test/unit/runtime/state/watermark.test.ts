import { watermarkOf } from '../../../../functions/runtime/state/watermark';
import {
  sliding,
  tumbling,
  windowStarts,
} from '../../../../functions/runtime/state/window-assigners';

const policy = { allowedLatenessMs: 1000, idleShardAfterMs: 60_000 };
const shard = (maxEventTime: number, seenAt: number) => ({
  maxEventTime,
  seenAt,
  sequenceNumber: '1',
});

describe('watermark', () => {
  it('is the slowest active shard minus the allowed lateness', () => {
    // When
    const watermark = watermarkOf([shard(50_000, 0), shard(20_000, 0)], 0, policy, 10_000);

    // Then
    expect(watermark).toBe(19_000);
  });

  it('is not held back by a shard idle for idleShardAfter', () => {
    // When: the slow shard last brought records 60 s ago
    const watermark = watermarkOf([shard(50_000, 40_000), shard(20_000, 0)], 0, policy, 60_000);

    // Then
    expect(watermark).toBe(49_000);
  });

  it('advances with processing time once every shard is idle', () => {
    // When: both idle; the latest went idle 5 s ago
    const watermark = watermarkOf([shard(50_000, 0), shard(20_000, 0)], 0, policy, 65_000);

    // Then
    expect(watermark).toBe(50_000 + 5_000 - 1000);
  });

  it('never goes back below the stored watermark', () => {
    // When: a shard comes back with older records
    const watermark = watermarkOf([shard(10_000, 0)], 30_000, policy, 1);

    // Then
    expect(watermark).toBe(30_000);
  });
});

describe('window assignment', () => {
  it('puts a record in its one tumbling window', () => {
    expect(windowStarts(tumbling('1m'), 61_000)).toStrictEqual([60_000]);
  });

  it('puts a record in size / every sliding windows, oldest first', () => {
    expect(windowStarts(sliding({ size: '3m', every: '1m' }), 130_000)).toStrictEqual([
      0, 60_000, 120_000,
    ]);
  });

  it('fails if a sliding size is not a multiple of its step', () => {
    expect(() => sliding({ size: '90s', every: '1m' })).toThrow(
      /size must be a multiple of every \(given size 90000 ms, every 60000 ms\)/,
    );
  });

  it('fails on a duration it cannot read, naming it', () => {
    expect(() => tumbling('1 minute' as never)).toThrow(/tumbling\(size\).*given "1 minute"/);
  });
});
