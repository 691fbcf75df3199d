/**
 * Conformance: read and payload limits (docs/event-source-mapping.md#batching,
 * #polling-and-limits): GetRecords ≤ 10,000 records per
 * call, invocation payloads ≤ 6 MB. Volume-heavy, so in its own file with its own kinesalite.
 */
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  countingClient,
  createStream,
  type KinesisTestServer,
  putRecords,
  putRecordsBatch,
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

describe('limits', () => {
  test('reads with GetRecords calls of at most 10,000 records', async () => {
    // given
    const stream = await createStream(server.kinesis);
    for (let i = 0; i < 24; i += 1) {
      await putRecordsBatch(
        server.kinesis,
        stream.name,
        Array.from({ length: 500 }, (_, j) => ({ partitionKey: `k${j}`, data: 'r' })),
      );
    }
    const { kinesis, sent } = countingClient(server.endpoint);
    const fn = fakeFunction();
    // when
    startMapping({ ...server, kinesis }, mappingConfig(stream.arn, { batchSize: 10_000 }), fn);
    await waitFor(() => fn.calls.reduce((n, c) => n + c.event.Records.length, 0) === 12_000);
    // then
    const limits = sent
      .filter((c) => c.name === 'GetRecordsCommand')
      .map((c) => (c.input as { Limit?: number }).Limit);
    expect(limits.every((l) => l !== undefined && l <= 10_000)).toBe(true);
    expect(fn.batches()[0]).toHaveLength(10_000);
    kinesis.destroy();
  });

  test('reads ahead about two rounds of batches, not 10,000 records, when batches are small', async () => {
    // given: a backlog of 3,000 records and batches of 100
    const stream = await createStream(server.kinesis);
    for (let i = 0; i < 6; i += 1) {
      await putRecordsBatch(
        server.kinesis,
        stream.name,
        Array.from({ length: 500 }, (_, j) => ({ partitionKey: `k${j}`, data: 'r' })),
      );
    }
    const { kinesis, sent } = countingClient(server.endpoint);
    const fn = fakeFunction();
    // when
    startMapping({ ...server, kinesis }, mappingConfig(stream.arn, { batchSize: 100 }), fn);
    await waitFor(() => fn.calls.reduce((n, c) => n + c.event.Records.length, 0) === 3000);
    // then: each shard buffers at most a read or two of 1,000 records
    const limits = sent
      .filter((c) => c.name === 'GetRecordsCommand')
      .map((c) => (c.input as { Limit?: number }).Limit);
    expect(new Set(limits)).toStrictEqual(new Set([1000]));
    kinesis.destroy();
  });

  test('a batch is cut before its payload exceeds 6 MB', async () => {
    // given: 1,000 KiB records are 1.33 MB in base64, so 4 fit in 6 MB and 5 do not
    const stream = await createStream(server.kinesis);
    const big = 'x'.repeat(1000 * 1024);
    await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 8 }, (_, i) => ({ partitionKey: `k${i}`, data: big })),
    );
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn, { batchSize: 100 }), fn);
    await waitFor(() => fn.calls.reduce((n, c) => n + c.event.Records.length, 0) === 8);
    // then
    expect(fn.batches().map((b) => b.length)).toStrictEqual([4, 4]);
    for (const call of fn.calls) {
      expect(JSON.stringify(call.event).length).toBeLessThanOrEqual(6 * 1024 * 1024);
    }
  });
});
