/**
 * Batch mode of stateful jobs: `driverless run` over a file emits the windows that streaming the
 * same records through the embedded stack emits: the same tumbling, sliding and session windows
 * with the same values, each once, and the same late records, the watermark following the
 * records' event times in both.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalPipeline, startLocal } from 'driverless/testing';
import { seededRandom } from '../../cli/seeded-random';
import { runCli } from '../fixtures/cli/run-cli';
import { synthesizeFixtureApp } from '../fixtures/synthesize-fixture-app';

jest.setTimeout(180_000);

const PROJECT = resolve(__dirname, '..', '..');
const HANDLER = 'test/fixtures/state/windows-handler.ts';
const BATCH = 10;
const BATCH_TABLE = 'BatchWindows';

let outdir: string;
let local: LocalPipeline;
let streamedTable: string;

const synthesize = () =>
  synthesizeFixtureApp(join(PROJECT, 'test', 'fixtures', 'state', 'synth-windows-app.ts'));

interface Reading {
  readonly id: string;
  readonly key: string;
  readonly time: number;
  readonly value: number;
}

/**
 * Batches of readings of three keys: event time follows the producer's clock, out of order by less
 * than the allowed lateness (10 s), with pauses that end sessions. Some batches open with a record
 * minutes behind, past every window it belongs to: late however the stream's reads split the
 * batches before it, since the records that moved the watermark past it are in earlier batches.
 */
function readings(): Reading[][] {
  const random = seededRandom(15);
  const between = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));
  let clock = Date.UTC(2026, 11, 2, 8, 0, 0);
  const batches: Reading[][] = [];
  for (let b = 0; b < 16; b++) {
    const batch: Reading[] = [];
    for (let i = 0; i < BATCH; i++) {
      clock += between(0, 3000);
      if (random() < 0.04) clock += between(45_000, 120_000);
      const late = b > 1 && i === 0 && random() < 0.5;
      batch.push({
        id: `r${b * BATCH + i}`,
        key: `k${between(1, 3)}`,
        time: late ? clock - between(300_000, 480_000) : clock + between(-4000, 500),
        value: between(1, 100),
      });
    }
    batches.push(batch);
  }
  return batches;
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await local.clients.documents.send(
    new ScanCommand({ TableName: table, ConsistentRead: true }),
  );
  return Items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
}

const finalTick = () => ({
  driverless: 'tick',
  source: 'readings',
  time: new Date().toISOString(),
  final: true,
});

beforeAll(async () => {
  outdir = await synthesize();
  local = await startLocal({ assembly: outdir, pollIntervalMs: 100, retryDelayMs: 100 });
  const table = local.resources.tables.find((t) => t.logicalId?.startsWith('Windows'));
  if (!table) throw new Error('the app has no Windows table');
  streamedTable = table.name;
  await local.clients.dynamodb.send(
    new CreateTableCommand({
      TableName: BATCH_TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterAll(async () => {
  await local?.stop();
  if (outdir) await rm(outdir, { recursive: true, force: true });
});

it('emits the same windows, each once, and the same late records as the stream', async () => {
  // Given: the readings streamed a batch at a time, then the end of the input
  const batches = readings();
  for (const batch of batches) {
    await local.put(
      'readings',
      batch.map((data) => ({ data, partitionKey: data.key })),
    );
    await local.drained({ timeoutMs: 60_000 });
  }
  const fn = local.resources.functions.find((f) => f.source === 'readings');
  const tick = await local.clients.lambda.send(
    new InvokeCommand({
      FunctionName: fn?.name,
      Qualifier: 'live',
      Payload: Buffer.from(JSON.stringify(finalTick())),
    }),
  );
  expect(tick.FunctionError).toBeUndefined();
  const file = join(outdir, 'readings.ndjson');
  await writeFile(
    file,
    batches
      .flat()
      .map((data) => `${JSON.stringify({ data, partitionKey: data.key })}\n`)
      .join(''),
  );

  // When: the same records run from a file, in batches of the stream's size
  const run = await runCli(['run', HANDLER, '--file', file, '--batch-size', String(BATCH)], {
    AWS_ENDPOINT_URL_DYNAMODB: local.endpoints.dynamodb,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    WINDOWS_TABLE: BATCH_TABLE,
    DRIVERLESS_SOURCE: 'readings',
  });

  // Then
  expect(run.code).toBe(0);
  const [streamed, batch] = [await scan(streamedTable), await scan(BATCH_TABLE)];
  const kinds = (items: Record<string, unknown>[]) =>
    [
      ...new Set(
        items.map(
          (item) => String(item.pk).split('|')[String(item.pk).startsWith('late|') ? 1 : 0],
        ),
      ),
    ].sort();
  expect({
    windows: kinds(streamed.filter((item) => !String(item.pk).startsWith('late|'))),
    late: kinds(streamed.filter((item) => String(item.pk).startsWith('late|'))),
    repeats: streamed.filter((item) => item.repeats !== undefined),
  }).toStrictEqual({
    windows: ['minutes', 'sessions', 'sliding'],
    late: ['minutes', 'sessions', 'sliding'],
    repeats: [],
  });
  expect(batch).toStrictEqual(streamed);
});
