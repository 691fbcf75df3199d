import { parseTime } from '../../../cli/parse-time';
import { parentsFirst } from '../../../cli/run/read-stream-batches';
import { syntheticSequenceNumber } from '../../../cli/run/synthetic-events';

const NOW = Date.UTC(2026, 10, 23, 20, 0, 0);

it('reads a relative time back from now', () => {
  expect(parseTime('-15m', '--from', NOW).toISOString()).toBe('2026-11-23T19:45:00.000Z');
});

it('reads an ISO-8601 time', () => {
  expect(parseTime('2026-11-23T08:30:00Z', '--to', NOW).toISOString()).toBe(
    '2026-11-23T08:30:00.000Z',
  );
});

it('fails if the time is neither, naming the option and the value', () => {
  expect(() => parseTime('soon', '--to', NOW)).toThrow(
    '--to must be an ISO-8601 time (2026-01-15T09:00:00Z) or a duration like -15m, -2h, -7d (given soon)',
  );
});

it('makes 56-digit sequence numbers that increase', () => {
  const [first, second] = [syntheticSequenceNumber(9), syntheticSequenceNumber(10)];
  expect({ length: first.length, ordered: BigInt(first) < BigInt(second) }).toEqual({
    length: 56,
    ordered: true,
  });
});

it('orders shards so parents come before their children', () => {
  // Given: a merge child listed before its parents
  const shards = [
    { ShardId: 'c', ParentShardId: 'a', AdjacentParentShardId: 'b' },
    { ShardId: 'b' } as { ShardId: string; ParentShardId?: string },
    { ShardId: 'a' },
  ];

  // When
  const order = parentsFirst(shards).map((shard) => shard.ShardId);

  // Then
  expect(order).toEqual(['b', 'a', 'c']);
});
