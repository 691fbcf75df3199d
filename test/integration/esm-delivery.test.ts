/**
 * Conformance: event shape, batching, starting positions, polling and concurrency of the Kinesis
 * event source mapping emulator (docs/event-source-mapping.md#event-record, #batching,
 * #retries, #polling-and-limits), against a real kinesalite.
 */
import { GetRecordsCommand } from '@aws-sdk/client-kinesis';
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  countingClient,
  createStream,
  type KinesisTestServer,
  putRecords,
  putRecordsBatch,
  region,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';
import { mappingConfig, roleArn } from '../fixtures/esm/mappingConfig';

jest.setTimeout(30_000);

let server: KinesisTestServer;

beforeAll(async () => {
  server = await startKinesalite();
});
afterEach(stopAllMappings);
afterAll(async () => {
  await server.close();
});

describe('event shape', () => {
  test('records carry every field, in AWS key order, with epoch-second arrival timestamps', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const before = Date.now();
    const [put] = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'user-1', data: { hello: 'world' } },
    ]);
    const after = Date.now();
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn), fn);
    await waitFor(() => fn.calls.length === 1);
    // then
    const event = fn.calls[0]?.event;
    const record = event?.Records[0];
    const arrival = record?.kinesis.approximateArrivalTimestamp ?? 0;
    expect(event).toStrictEqual({
      Records: [
        {
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: 'user-1',
            sequenceNumber: put?.sequenceNumber,
            data: Buffer.from('{"hello":"world"}').toString('base64'),
            approximateArrivalTimestamp: arrival,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `shardId-000000000000:${put?.sequenceNumber}`,
          eventName: 'aws:kinesis:record',
          invokeIdentityArn: roleArn,
          awsRegion: region,
          eventSourceARN: stream.arn,
        },
      ],
    });
    expect(Object.keys(record ?? {})).toStrictEqual([
      'kinesis',
      'eventSource',
      'eventVersion',
      'eventID',
      'eventName',
      'invokeIdentityArn',
      'awsRegion',
      'eventSourceARN',
    ]);
    expect(Object.keys(record?.kinesis ?? {})).toStrictEqual([
      'kinesisSchemaVersion',
      'partitionKey',
      'sequenceNumber',
      'data',
      'approximateArrivalTimestamp',
    ]);
    expect(String(Math.floor(arrival))).toHaveLength(10);
    expect(arrival * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(arrival * 1000).toBeLessThanOrEqual(after + 1);
  });

  test('invokes the function name and qualifier of an alias-targeted mapping', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 'x' }]);
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn, { functionName: 'consumer:live' }), fn);
    await waitFor(() => fn.calls.length === 1);
    // then
    expect([fn.calls[0]?.functionName, fn.calls[0]?.qualifier]).toStrictEqual(['consumer', 'live']);
  });
});

describe('batching', () => {
  test('batches hold at most BatchSize records, in sequence order', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const puts = await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 7 }, (_, i) => ({ partitionKey: `k${i}`, data: { i } })),
    );
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn, { batchSize: 3 }), fn);
    await waitFor(() => fn.calls.length === 3);
    // then
    const seqs = puts.map((p) => p.sequenceNumber);
    expect(fn.batches()).toStrictEqual([seqs.slice(0, 3), seqs.slice(3, 6), seqs.slice(6)]);
  });

  test('with a batching window, records accumulate until the window elapses', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const fn = fakeFunction();
    const { mapping } = startMapping(
      server,
      mappingConfig(stream.arn, { maximumBatchingWindowSeconds: 1 }),
      fn,
    );
    await mapping.ready;
    const started = Date.now();
    // when
    for (let i = 0; i < 3; i += 1) {
      await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: { i } }]);
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor(() => fn.calls.length === 1, 5000);
    // then
    expect(fn.batches()[0]).toHaveLength(3);
    expect((fn.calls[0]?.startedAt ?? 0) - started).toBeGreaterThanOrEqual(900);
  });

  test('with a batching window, a full batch is sent before the window elapses', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const fn = fakeFunction();
    const { mapping } = startMapping(
      server,
      mappingConfig(stream.arn, { maximumBatchingWindowSeconds: 60, batchSize: 2 }),
      fn,
    );
    await mapping.ready;
    // when
    await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: 1 },
      { partitionKey: 'b', data: 2 },
    ]);
    // then
    await waitFor(() => fn.calls.length === 1, 3000, 'a full batch before the 60 s window');
    expect(fn.batches()[0]).toHaveLength(2);
  });
});

describe('starting positions', () => {
  test('TRIM_HORIZON delivers records put before the mapping started', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const [old] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn, { startingPosition: 'TRIM_HORIZON' }), fn);
    await waitFor(() => fn.calls.length === 1);
    // then
    expect(fn.batches()).toStrictEqual([[old?.sequenceNumber]]);
  });

  test('LATEST delivers only records put after the mapping is ready', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 'old' }]);
    const fn = fakeFunction();
    const { mapping } = startMapping(
      server,
      mappingConfig(stream.arn, { startingPosition: 'LATEST' }),
      fn,
    );
    await mapping.ready;
    // when
    const [fresh] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 2 }]);
    // A shard is delivered in order: once a later record has arrived, anything before it has too.
    const [marker] = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'k', data: 3 },
    ]);
    await waitFor(() =>
      fn
        .batches()
        .flat()
        .includes(marker?.sequenceNumber ?? ''),
    );
    // then
    expect(fn.batches().flat()).toStrictEqual([fresh?.sequenceNumber, marker?.sequenceNumber]);
  });

  test('AT_TIMESTAMP delivers records that arrived from the timestamp on', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 'before' }]);
    await new Promise((r) => setTimeout(r, 50));
    const timestamp = Date.now() / 1000;
    await new Promise((r) => setTimeout(r, 50));
    const [after] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 2 }]);
    const fn = fakeFunction();
    // when
    startMapping(
      server,
      mappingConfig(stream.arn, {
        startingPosition: 'AT_TIMESTAMP',
        startingPositionTimestamp: timestamp,
      }),
      fn,
    );
    await waitFor(() => fn.calls.length === 1);
    // then
    expect(fn.batches()).toStrictEqual([[after?.sequenceNumber]]);
  });
});

describe('polling', () => {
  test('a caught-up shard is polled about once per second', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const { kinesis, sent } = countingClient(server.endpoint);
    // when
    const { mapping } = startMapping(
      { ...server, kinesis },
      mappingConfig(stream.arn),
      fakeFunction(),
      { tuning: { idlePollIntervalMs: 1000 } },
    );
    await mapping.ready;
    await new Promise((r) => setTimeout(r, 2500));
    // then
    const polls = sent.filter((c) => c.name === 'GetRecordsCommand').length;
    expect(polls).toBeGreaterThanOrEqual(2);
    expect(polls).toBeLessThanOrEqual(4);
    await mapping.stop();
    kinesis.destroy();
  });

  test('a disabled mapping does not poll at all', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
    const { kinesis, sent } = countingClient(server.endpoint);
    const fn = fakeFunction();
    // when
    startMapping({ ...server, kinesis }, mappingConfig(stream.arn, { enabled: false }), fn);
    await new Promise((r) => setTimeout(r, 300));
    // then
    expect({ requests: sent.length, calls: fn.calls.length }).toStrictEqual({
      requests: 0,
      calls: 0,
    });
    kinesis.destroy();
  });

  test('Kinesis errors before invocation are retried without using retry attempts', async () => {
    // given: the first two GetRecords calls fail as throttled
    const stream = await createStream(server.kinesis);
    const [put] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
    const { kinesis } = countingClient(server.endpoint);
    let failures = 0;
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === GetRecordsCommand.name && failures < 2) {
          failures += 1;
          const error = new Error('Rate exceeded for shard');
          error.name = 'ProvisionedThroughputExceededException';
          throw error;
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const fn = fakeFunction();
    // when
    const { eventsOf } = startMapping(
      { ...server, kinesis },
      mappingConfig(stream.arn, { maximumRetryAttempts: 0 }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    // then
    expect(eventsOf('error').map((e) => e.stage)).toStrictEqual(['getRecords', 'getRecords']);
    expect(fn.batches()).toStrictEqual([[put?.sequenceNumber]]);
    expect(eventsOf('recordsDiscarded')).toStrictEqual([]);
    kinesis.destroy();
  });
});

describe('stopping', () => {
  test('stop() waits for the in-flight batch and then invokes nothing more', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 3 }, (_, i) => ({ partitionKey: `k${i}`, data: i })),
    );
    const fn = fakeFunction(() => ({ payload: null, delayMs: 200 }));
    const { mapping } = startMapping(server, mappingConfig(stream.arn, { batchSize: 1 }), fn);
    await waitFor(() => fn.calls.length === 1);
    // when
    await mapping.stop();
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 300));
    // then
    expect(fn.calls).toHaveLength(1);
    expect(fn.calls[0]?.endedAt).toBeLessThanOrEqual(stoppedAt);
    expect(mapping.stats().checkpointedRecords).toBe(1);
  });
});

describe('concurrency', () => {
  test('one batch in flight per shard; shards run concurrently', async () => {
    // given
    const stream = await createStream(server.kinesis, 2);
    await putRecordsBatch(
      server.kinesis,
      stream.name,
      Array.from({ length: 40 }, (_, i) => ({ partitionKey: `key-${i}`, data: { i } })),
    );
    const fn = fakeFunction(() => ({ payload: null, delayMs: 30 }));
    // when
    const { mapping } = startMapping(server, mappingConfig(stream.arn, { batchSize: 4 }), fn);
    await waitFor(() => fn.calls.reduce((n, c) => n + c.event.Records.length, 0) === 40);
    // then
    expect(fn.peakConcurrency()).toBe(2);
    expect(mapping.stats().peakInFlightInvocations).toBe(2);
    const byShard = new Map<string, typeof fn.calls>();
    for (const call of fn.calls) {
      const shard = call.event.Records[0]?.eventID.split(':')[0] ?? '';
      byShard.set(shard, [...(byShard.get(shard) ?? []), call]);
    }
    for (const calls of byShard.values()) {
      for (let i = 1; i < calls.length; i += 1) {
        expect(calls[i]?.startedAt).toBeGreaterThanOrEqual(calls[i - 1]?.endedAt ?? Infinity);
      }
    }
  });

  test('ParallelizationFactor runs concurrent batches per shard, ordered per partition key', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const puts = await putRecordsBatch(
      server.kinesis,
      stream.name,
      Array.from({ length: 60 }, (_, i) => ({ partitionKey: `key-${i % 12}`, data: { i } })),
    );
    const keyOf = new Map(puts.map((p, i) => [p.sequenceNumber, `key-${i % 12}`]));
    const fn = fakeFunction(() => ({ payload: null, delayMs: 30 }));
    // when
    const { mapping } = startMapping(
      server,
      mappingConfig(stream.arn, { batchSize: 3, parallelizationFactor: 3 }),
      fn,
    );
    await waitFor(() => fn.calls.reduce((n, c) => n + c.event.Records.length, 0) === 60);
    // then
    expect(fn.peakConcurrency()).toBeGreaterThan(1);
    expect(mapping.stats().peakInFlightInvocations).toBeLessThanOrEqual(3);
    const seen = new Map<string, { seq: bigint; endedAt: number }>();
    for (const call of [...fn.calls].sort((a, b) => a.startedAt - b.startedAt)) {
      for (const record of call.event.Records) {
        const key = keyOf.get(record.kinesis.sequenceNumber) ?? '';
        const previous = seen.get(key);
        const seq = BigInt(record.kinesis.sequenceNumber);
        if (previous) {
          expect(seq > previous.seq).toBe(true);
          if (previous.endedAt !== call.endedAt) {
            expect(call.startedAt).toBeGreaterThanOrEqual(previous.endedAt);
          }
        }
        seen.set(key, { seq, endedAt: call.endedAt });
      }
    }
  });
});

describe('enhanced fan-out consumer mappings', () => {
  test('a consumer mapping reads with its own iterators, faster than standard polling', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const consumerArn = `${stream.arn}/consumer/fanout:1700000000`;
    const standard = fakeFunction();
    const consumer = fakeFunction();
    const tuning = { idlePollIntervalMs: 1000, consumerPollIntervalMs: 100 };
    const a = startMapping(server, mappingConfig(stream.arn), standard, { tuning });
    const b = startMapping(
      server,
      mappingConfig(stream.arn, { eventSourceArn: consumerArn, consumerArn }),
      consumer,
      { tuning },
    );
    await Promise.all([a.mapping.ready, b.mapping.ready]);
    await new Promise((r) => setTimeout(r, 150));
    // when
    const put = Date.now();
    const [record] = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'k', data: 1 },
    ]);
    await waitFor(() => standard.calls.length === 1 && consumer.calls.length === 1, 5000);
    // then
    expect(consumer.batches()).toStrictEqual([[record?.sequenceNumber]]);
    expect(standard.batches()).toStrictEqual([[record?.sequenceNumber]]);
    expect(consumer.calls[0]?.event.Records[0]?.eventSourceARN).toBe(stream.arn);
    expect((consumer.calls[0]?.startedAt ?? Infinity) - put).toBeLessThan(400);
  });
});
