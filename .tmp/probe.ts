import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient, startKinesis } from '../emulator/index';
import { runBackfill } from '../functions/runtime/backfill/index';
async function main() {
  const engine = (process.argv[2] ?? 'kinesalite') as 'kinesalite';
  const server = await startKinesis({ engine });
  process.env.AWS_ENDPOINT_URL_KINESIS = server.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  const k = kinesisClient(server.endpoint);
  await k.send(new CreateStreamCommand({ StreamName: 's', ShardCount: 1 }));
  while ((await k.send(new DescribeStreamSummaryCommand({ StreamName: 's' }))).StreamDescriptionSummary?.StreamStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 50));
  const from = Date.now() - 1000;
  await k.send(new PutRecordsCommand({ StreamName: 's', Records: [1, 2, 3].map((n) => ({ PartitionKey: 'k', Data: Buffer.from(JSON.stringify({ n })) })) }));
  const to = Date.now() + 1000;
  const handler = (event: any, context: any) => runBackfill(event, context, { cursors: undefined, marginMs: 1000, process: async (e: any) => { console.log('batch', e.Records.length); return { response: { batchItemFailures: [] }, report: { deadLetters: 0, jobs: {} } as any }; } });
  try {
    const r = await (handler as any)({ driverless: 'backfill', backfillId: 'x', slice: { kind: 'shard', id: 'shardId-000000000000', streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/s', shardId: 'shardId-000000000000', fromMs: from, toMs: to } }, { getRemainingTimeInMillis: () => 60000 });
    console.log(JSON.stringify(r));
  } catch (e) { console.log('ERR', e); }
  await server.stop();
}
main();
