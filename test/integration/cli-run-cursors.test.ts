/**
 * `driverless run` with per-job cursors in a real DynamoDB API (dynalite): a second run over the
 * same records hands jobs nothing, and `--ignore-cursors` hands them everything again.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { dynamoClient } from '../../emulator/clients';
import { type DynamoServer, startDynamo } from '../../emulator/servers/dynamo-server';
import { type CliResult, jsonSummary, runCli } from '../fixtures/cli/run-cli';

const HANDLER = 'test/fixtures/cli/counting-handler.ts';
const TABLE = 'checkpoints';

let server: DynamoServer;
let dir: string;

beforeAll(async () => {
  server = await startDynamo();
});

afterAll(() => server.stop());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-cursors-'));
  await dynamoClient(server.endpoint).send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});

afterEach(async () => {
  await dynamoClient(server.endpoint).send(new DeleteTableCommand({ TableName: TABLE }));
  await rm(dir, { recursive: true, force: true });
});

/** Five records `{ n }` in a file. */
async function recordsFile(): Promise<string> {
  const file = join(dir, 'numbers.ndjson');
  await writeFile(
    file,
    Array.from({ length: 5 }, (_, n) => `${JSON.stringify({ data: { n } })}\n`).join(''),
  );
  return file;
}

/**
 * Runs the counting handler over `file` with cursors in dynalite, as a user would: only the
 * DynamoDB endpoint and the table are given (no region, no credentials). Returns the exit code,
 * the records the `sum` job was handed, and what `sum` saw.
 */
async function run(
  file: string,
  extra: readonly string[] = [],
): Promise<{ code: number; handed: unknown; seen: number[] }> {
  const sumFile = join(dir, `sum-${Date.now()}`);
  const result: CliResult = await runCli(['run', HANDLER, '--file', file, '--json', ...extra], {
    DRIVERLESS_CHECKPOINT_TABLE: TABLE,
    AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_PROFILE: undefined,
    SUM_FILE: sumFile,
    // The summary's per-job tallies come from the runtime's `batch` log lines.
    POWERTOOLS_LOG_LEVEL: 'INFO',
  });
  const seen = await readFile(sumFile, 'utf8').then(
    (text) => text.trim().split('\n').map(Number),
    () => [],
  );
  const jobs = jsonSummary(result.stdout).jobs as Record<string, { records: number }> | undefined;
  return { code: result.code, handed: jobs?.sum?.records, seen };
}

describe('driverless run with per-job cursors', () => {
  it('commits cursors to DynamoDB: a first run hands every record to the jobs', async () => {
    // Given
    const file = await recordsFile();

    // When
    const first = await run(file);

    // Then
    expect(first).toStrictEqual({ code: 0, handed: 5, seen: [0, 1, 2, 3, 4] });
  });

  it('hands jobs nothing on a second run over the same records: their cursors are past them', async () => {
    // Given
    const file = await recordsFile();
    await run(file);

    // When
    const second = await run(file);

    // Then
    expect(second).toStrictEqual({ code: 0, handed: 0, seen: [] });
  });

  it('hands jobs every record again with --ignore-cursors', async () => {
    // Given
    const file = await recordsFile();
    await run(file);
    await run(file);

    // When
    const rerun = await run(file, ['--ignore-cursors']);

    // Then
    expect(rerun).toStrictEqual({ code: 0, handed: 5, seen: [0, 1, 2, 3, 4] });
  });
});
