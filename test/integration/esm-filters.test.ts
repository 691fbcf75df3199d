/**
 * Conformance: filter criteria on Kinesis records (docs/event-source-mapping.md#filtering), against
 * real kinesalite.
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

describe('filter criteria', () => {
  test('only matching records reach the function, unchanged; non-JSON data is dropped', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const puts = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: { type: 'view', n: 1 } },
      { partitionKey: 'b', data: { type: 'click', n: 2 } },
      { partitionKey: 'c', data: 'not json {' },
      { partitionKey: 'd', data: { type: 'view', n: 4 } },
    ]);
    const seq = puts.map((p) => p.sequenceNumber);
    const fn = fakeFunction();
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { filters: ['{"data":{"type":["view"]}}'] }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    // then
    expect(fn.batches()).toStrictEqual([[seq[0], seq[3]]]);
    expect(fn.calls[0]?.event.Records[1]?.kinesis.data).toBe(
      Buffer.from(JSON.stringify({ type: 'view', n: 4 })).toString('base64'),
    );
    expect(eventsOf('recordsFilteredOut').flatMap((e) => e.sequenceNumbers)).toStrictEqual([
      seq[1],
      seq[2],
    ]);
  });

  test('dropped records are consumed: never redelivered, even when later records fail', async () => {
    // given: the first matching record fails once
    const stream = await createStream(server.kinesis);
    const puts = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: { keep: true } },
      { partitionKey: 'b', data: { keep: false } },
      { partitionKey: 'c', data: { keep: true } },
    ]);
    const fn = fakeFunction((_e, call) => (call === 0 ? { functionError: 'Unhandled' } : {}));
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { filters: ['{"data":{"keep":[true]}}'] }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    // then
    const kept = [puts[0]?.sequenceNumber, puts[2]?.sequenceNumber];
    expect(fn.batches()).toStrictEqual([kept, kept]);
  });

  test('filters are ORed, each record evaluated on its own', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const puts = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'a', data: { amount: 5 } },
      { partitionKey: 'b', data: { amount: 500 } },
      { partitionKey: 'c', data: { country: 'eu-west' } },
    ]);
    const fn = fakeFunction();
    // when
    startMapping(
      server,
      mappingConfig(stream.arn, {
        filters: [
          '{"data":{"amount":[{"numeric":[">",100]}]}}',
          '{"data":{"country":[{"prefix":"eu-"}]}}',
        ],
      }),
      fn,
    );
    await waitFor(() => fn.calls.length === 1);
    // then
    expect(fn.batches()).toStrictEqual([[puts[1]?.sequenceNumber, puts[2]?.sequenceNumber]]);
  });

  test('without a data pattern, only metadata rules apply (non-JSON data passes)', async () => {
    // given
    const stream = await createStream(server.kinesis);
    const puts = await putRecords(server.kinesis, stream.name, [
      { partitionKey: 'keep', data: 'plain text' },
      { partitionKey: 'skip', data: { a: 1 } },
    ]);
    const fn = fakeFunction();
    // when
    startMapping(server, mappingConfig(stream.arn, { filters: ['{"partitionKey":["keep"]}'] }), fn);
    await waitFor(() => fn.calls.length === 1);
    // then
    expect(fn.batches()).toStrictEqual([[puts[0]?.sequenceNumber]]);
  });
});
