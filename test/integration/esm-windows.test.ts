/**
 * Conformance: tumbling windows (docs/event-source-mapping.md#tumbling-windows), against real
 * kinesalite. Windows of 1 s keep
 * the tests short; records are put early in a second so they share a window.
 */
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

/** Waits until the current second has just begun, so the next puts share one 1 s window. */
async function startOfSecond(): Promise<void> {
  while (Date.now() % 1000 > 100 || Date.now() % 1000 < 20) {
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A window function that counts records in its state. */
function counter() {
  return fakeFunction((event) => ({
    payload: {
      state: { count: Number(event.state.count ?? 0) + event.Records.length },
    },
  }));
}

function isoSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

describe('tumbling windows', () => {
  test('a window batch carries window, state, shardId and flags; the closing call has the final state', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await startOfSecond();
    const puts = await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 3 }, (_, i) => ({ partitionKey: `k${i}`, data: { i } })),
    );
    const fn = counter();
    // when
    startMapping(server, mappingConfig(stream.arn, { tumblingWindowSeconds: 1 }), fn);
    await waitFor(() => fn.calls.length === 2, 5000);
    // then
    const [first, final] = fn.calls.map((c) => c.event);
    const arrivalMs = (first?.Records[0]?.kinesis.approximateArrivalTimestamp ?? 0) * 1000;
    const window = { start: isoSecond(arrivalMs), end: isoSecond(arrivalMs + 1000) };
    expect(first?.Records.map((r) => r.kinesis.sequenceNumber)).toStrictEqual(
      puts.map((p) => p.sequenceNumber),
    );
    expect(Object.keys(first ?? {})).toStrictEqual([
      'Records',
      'window',
      'state',
      'shardId',
      'eventSourceARN',
      'isFinalInvokeForWindow',
      'isWindowTerminatedEarly',
    ]);
    expect({ ...first, Records: [] }).toStrictEqual({
      Records: [],
      window,
      state: {},
      shardId: 'shardId-000000000000',
      eventSourceARN: stream.arn,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
    expect(final).toStrictEqual({
      Records: [],
      window,
      state: { count: 3 },
      shardId: 'shardId-000000000000',
      eventSourceARN: stream.arn,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    });
  });

  test('state returned by one invocation is passed to the next in the same window', async () => {
    // given
    const stream = await createStream(server.kinesis);
    await startOfSecond();
    await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 3 }, (_, i) => ({ partitionKey: `k${i}`, data: { i } })),
    );
    const fn = counter();
    // when
    startMapping(server, mappingConfig(stream.arn, { tumblingWindowSeconds: 1, batchSize: 1 }), fn);
    await waitFor(() => fn.calls.length === 4, 5000);
    // then
    expect(fn.calls.map((c) => [c.event.state, c.event.isFinalInvokeForWindow])).toStrictEqual([
      [{}, false],
      [{ count: 1 }, false],
      [{ count: 2 }, false],
      [{ count: 3 }, true],
    ]);
  });

  test('a response without state fails the batch, which is retried', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const [put] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
    const fn = fakeFunction((_event, call) =>
      call === 0 ? { payload: {} } : { payload: { state: {} } },
    );
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { tumblingWindowSeconds: 1 }),
      fn,
    );
    await waitFor(() => fn.calls.length >= 2, 5000);
    // then
    expect(fn.batches().slice(0, 2)).toStrictEqual([[put?.sequenceNumber], [put?.sequenceNumber]]);
    expect(eventsOf('batchResult')[0]).toMatchObject({
      outcome: 'error',
      reason: 'response has no state object',
    });
  });

  test('a later window starts with fresh state', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const fn = counter();
    startMapping(server, mappingConfig(stream.arn, { tumblingWindowSeconds: 1 }), fn);
    await startOfSecond();
    // when
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
    await new Promise((r) => setTimeout(r, 1000));
    await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 2 }]);
    await waitFor(() => fn.calls.length === 4, 5000);
    // then
    const events = fn.calls.map((c) => c.event);
    expect(events.map((e) => [e.Records.length, e.state, e.isFinalInvokeForWindow])).toStrictEqual([
      [1, {}, false],
      [0, { count: 1 }, true],
      [1, {}, false],
      [0, { count: 1 }, true],
    ]);
    expect(events[2]?.window.start).toBe(events[0]?.window.end);
  });

  test('state over the limit ends the window early; later records start fresh', async () => {
    // given: a 200-byte limit stands in for AWS's 1 MB
    const stream = await createStream(server.kinesis);
    await startOfSecond();
    await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: 1 },
      { partitionKey: 'b', data: 2 },
    ]);
    const fn = fakeFunction((event) => ({
      payload: {
        state: event.Records.length > 0 ? { blob: 'x'.repeat(300) } : event.state,
      },
    }));
    // when
    startMapping(
      server,
      mappingConfig(stream.arn, { tumblingWindowSeconds: 1, batchSize: 1 }),
      fn,
      { tuning: { maxWindowStateBytes: 200 } },
    );
    await waitFor(() => fn.calls.length === 4, 5000);
    // then
    expect(
      fn.calls.map((c) => [
        c.event.Records.length,
        Object.keys(c.event.state),
        c.event.isFinalInvokeForWindow,
        c.event.isWindowTerminatedEarly,
      ]),
    ).toStrictEqual([
      [1, [], false, false],
      [0, ['blob'], true, true],
      [1, [], false, false],
      [0, ['blob'], true, true],
    ]);
  });

  test('each shard keeps its own state', async () => {
    // given
    const stream = await createStream(server.kinesis, 2);
    await startOfSecond();
    await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: 1, explicitHashKey: '0' },
      { partitionKey: 'b', data: 2, explicitHashKey: '340282366920938463463374607431768211455' },
    ]);
    const fn = counter();
    // when
    startMapping(server, mappingConfig(stream.arn, { tumblingWindowSeconds: 1 }), fn);
    await waitFor(() => fn.calls.length === 4, 5000);
    // then
    const finals = fn.calls
      .map((c) => c.event)
      .filter((e) => e.isFinalInvokeForWindow)
      .map((e) => [e.shardId, e.state])
      .sort();
    expect(finals).toStrictEqual([
      ['shardId-000000000000', { count: 1 }],
      ['shardId-000000000001', { count: 1 }],
    ]);
  });
});
