/**
 * The embedded kinesalite answers an AT_TIMESTAMP iterator after a shard's last record as AWS
 * does: an empty page that leads on to the records put later (kinesalite alone never answers).
 */
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  PutRecordCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../emulator/clients';
import { type KinesisServer, startKinesis } from '../../emulator/servers/kinesis-server';

jest.setTimeout(60_000);

const SHARD = 'shardId-000000000000';
let server: KinesisServer;
let kinesis: KinesisClient;
let streams = 0;

beforeAll(async () => {
  server = await startKinesis({ engine: 'kinesalite' });
  kinesis = kinesisClient(server.endpoint);
});

afterAll(async () => {
  kinesis?.destroy();
  await server?.stop();
});

async function newStream(): Promise<string> {
  const name = `at-timestamp-${++streams}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitUntilStreamExists(
    { client: kinesis, maxWaitTime: 10, minDelay: 1 },
    { StreamName: name },
  );
  return name;
}

const put = (stream: string, text: string) =>
  kinesis.send(
    new PutRecordCommand({ StreamName: stream, PartitionKey: 'k', Data: Buffer.from(text) }),
  );

const atTimestamp = async (stream: string, timestamp: Date) =>
  (
    await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: stream,
        ShardId: SHARD,
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: timestamp,
      }),
      // A request kinesalite never answers fails the test in seconds rather than hanging it.
      { abortSignal: AbortSignal.timeout(5_000) },
    )
  ).ShardIterator;

const texts = (records: { Data?: Uint8Array }[] | undefined) =>
  (records ?? []).map((record) => Buffer.from(record.Data ?? []).toString());

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('answers an empty page leading on, for a timestamp after the last record', async () => {
  // given: a record, then a moment later
  const stream = await newStream();
  await put(stream, 'before');
  await pause(20);
  const iterator = await atTimestamp(stream, new Date());
  // when
  const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
  // then
  expect({
    records: page.Records,
    millisBehindLatest: page.MillisBehindLatest,
    next: typeof page.NextShardIterator,
  }).toStrictEqual({ records: [], millisBehindLatest: 0, next: 'string' });
});

it('reads the records put after the timestamp, from the empty page on', async () => {
  // given: an iterator past the tip and its empty page, then records put
  const stream = await newStream();
  await put(stream, 'before');
  await pause(20);
  const iterator = await atTimestamp(stream, new Date());
  const empty = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
  await put(stream, 'after-1');
  await put(stream, 'after-2');
  // when
  const page = await kinesis.send(
    new GetRecordsCommand({ ShardIterator: empty.NextShardIterator }),
  );
  // then
  expect(texts(page.Records)).toStrictEqual(['after-1', 'after-2']);
});

it('reads the records put after the timestamp, with the iterator itself', async () => {
  // given: an iterator over a shard with no record at all, then a record put
  const stream = await newStream();
  const iterator = await atTimestamp(stream, new Date(Date.now() - 1_000));
  await put(stream, 'after');
  // when
  const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator }));
  // then
  expect(texts(page.Records)).toStrictEqual(['after']);
});

it('still starts at the first record at or after a timestamp before the tip', async () => {
  // given
  const stream = await newStream();
  await put(stream, 'old');
  await pause(20);
  const between = new Date();
  await pause(20);
  await put(stream, 'new-1');
  await put(stream, 'new-2');
  // when
  const page = await kinesis.send(
    new GetRecordsCommand({ ShardIterator: await atTimestamp(stream, between) }),
  );
  // then
  expect(texts(page.Records)).toStrictEqual(['new-1', 'new-2']);
});
