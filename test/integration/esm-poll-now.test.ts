/**
 * `pollNow`: a caught-up mapping reads at once when asked (its function's alias moved in
 * `driverless dev`), instead of at the end of its idle wait; what it delivers is unchanged.
 */
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  countingClient,
  createStream,
  type KinesisTestServer,
  putRecords,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';
import { mappingConfig } from '../fixtures/esm/mappingConfig';

jest.setTimeout(30_000);

/** Far longer than the test waits: a record delivered in time was read because of pollNow. */
const IDLE_POLL_MS = 60_000;

let server: KinesisTestServer;

/** A client that counts the GetRecords calls answered: after the first, the mapping is caught up. */
function answeringClient(): { kinesis: KinesisTestServer['kinesis']; reads: () => number } {
  const { kinesis } = countingClient(server.endpoint);
  let answered = 0;
  kinesis.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'GetRecordsCommand') answered++;
      return result;
    },
    { step: 'initialize' },
  );
  return { kinesis, reads: () => answered };
}

beforeAll(async () => {
  server = await startKinesalite();
});
afterEach(stopAllMappings);
afterAll(async () => {
  await server.close();
});

test('a caught-up mapping delivers a record put during its idle wait once asked to poll', async () => {
  // Given: a mapping that has read its empty shard and waits a minute before the next read
  const stream = await createStream(server.kinesis);
  const fn = fakeFunction();
  const { kinesis, reads } = answeringClient();
  const { mapping } = startMapping({ ...server, kinesis }, mappingConfig(stream.arn), fn, {
    tuning: { idlePollIntervalMs: IDLE_POLL_MS },
  });
  await waitFor(() => reads() === 1);
  const [put] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);

  // When
  mapping.pollNow();

  // Then
  await waitFor(() => fn.calls.length === 1);
  expect(fn.batches()).toStrictEqual([[put?.sequenceNumber]]);
  kinesis.destroy();
});

test('without pollNow, the same record waits for the idle interval', async () => {
  // Given: the same mapping, caught up
  const stream = await createStream(server.kinesis);
  const fn = fakeFunction();
  const { kinesis, reads } = answeringClient();
  startMapping({ ...server, kinesis }, mappingConfig(stream.arn), fn, {
    tuning: { idlePollIntervalMs: IDLE_POLL_MS },
  });
  await waitFor(() => reads() === 1);

  // When: a record is put and nobody asks for a poll
  await putRecords(server.kinesis, stream.name, [{ partitionKey: 'k', data: 1 }]);
  await new Promise((resolve) => setTimeout(resolve, 1500));

  // Then
  expect(fn.calls).toHaveLength(0);
  kinesis.destroy();
});
