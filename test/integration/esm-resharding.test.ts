/**
 * Conformance: resharding (docs/event-source-mapping.md#resharding, #tumbling-windows): a child
 * shard is read only after its parent is
 * fully processed, new shards are discovered while running, and windows do not survive a reshard.
 * kinesalite's SplitShard closes the parent (NextShardIterator null) like AWS.
 */
import { DescribeStreamSummaryCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  createStream,
  type KinesisTestServer,
  putRecords,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';
import { mappingConfig } from '../fixtures/esm/mappingConfig';

jest.setTimeout(30_000);

let server: KinesisTestServer;

beforeAll(async () => {
  server = await startKinesalite();
});
afterEach(stopAllMappings);
afterAll(async () => {
  await server.close();
});

const low = '0';
const high = '340282366920938463463374607431768211455';
const parent = 'shardId-000000000000';

async function split(streamName: string): Promise<void> {
  await server.kinesis.send(
    new SplitShardCommand({
      StreamName: streamName,
      ShardToSplit: parent,
      NewStartingHashKey: '170141183460469231731687303715884105728',
    }),
  );
  for (;;) {
    const out = await server.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('resharding', () => {
  test('children are read only after the parent is fully processed', async () => {
    // given: a slow function still working through the parent when the split happens
    const stream = await createStream(server.kinesis);
    const parentPuts = await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 4 }, (_, i) => ({ partitionKey: `p${i}`, data: i })),
    );
    const fn = fakeFunction(() => ({ payload: null, delayMs: 80 }));
    const { mapping, events } = startMapping(
      server,
      mappingConfig(stream.arn, { batchSize: 1 }),
      fn,
    );
    await mapping.ready;
    // when
    await split(stream.name);
    const childPuts = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'c1', data: 'x', explicitHashKey: low },
      { partitionKey: 'c2', data: 'y', explicitHashKey: high },
    ]);
    await waitFor(() => fn.calls.length === 6, 10_000);
    // then
    const order = fn.calls.map((c) => c.event.Records[0]?.eventID.split(':')[0]);
    expect(order.slice(0, 4)).toStrictEqual([parent, parent, parent, parent]);
    expect(new Set(order.slice(4))).toStrictEqual(new Set(childPuts.map((p) => p.shardId)));
    expect(fn.batches().slice(0, 4).flat()).toStrictEqual(parentPuts.map((p) => p.sequenceNumber));
    const lifecycle = events
      .filter((e) => e.type === 'shardStarted' || e.type === 'shardFinished')
      .map((e) =>
        e.type === 'shardStarted'
          ? ['started', e.shardId, e.parentShardIds, e.iteratorType]
          : ['finished', e.shardId],
      );
    expect(lifecycle.slice(0, 2)).toStrictEqual([
      ['started', parent, [], 'TRIM_HORIZON'],
      ['finished', parent],
    ]);
    expect(lifecycle.slice(2).sort()).toStrictEqual([
      ['started', 'shardId-000000000001', [parent], 'TRIM_HORIZON'],
      ['started', 'shardId-000000000002', [parent], 'TRIM_HORIZON'],
    ]);
  });

  test('a reshard closes the parent window; children start with fresh state', async () => {
    // given: a 60 s window that only the end of the parent shard can close early
    const stream = await createStream(server.kinesis);
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'p', data: 1 }]);
    const fn = fakeFunction((event) => ({
      payload: { state: { count: Number(event.state.count ?? 0) + event.Records.length } },
    }));
    startMapping(server, mappingConfig(stream.arn, { tumblingWindowSeconds: 60 }), fn);
    await waitFor(() => fn.calls.length === 1);
    // when
    await split(stream.name);
    await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'c', data: 2, explicitHashKey: low },
    ]);
    await waitFor(() => fn.calls.length === 3, 10_000);
    // then
    expect(
      fn.calls.map((c) => [c.event.shardId, c.event.state, c.event.isFinalInvokeForWindow]),
    ).toStrictEqual([
      [parent, {}, false],
      [parent, { count: 1 }, true],
      ['shardId-000000000001', {}, false],
    ]);
  });
});
