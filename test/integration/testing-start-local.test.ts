/**
 * `driverless/testing`'s startLocal on a real app: a pipeline synthesized from a CDK app, records
 * put with PutRecords, processed by the real function on the embedded stack, with injected faults.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DrainTimeoutError, type LocalPipeline, startLocal } from 'driverless/testing';
import { synthesizeFixtureApp } from '../fixtures/synthesize-fixture-app';

/** Synthesizes the fixture app under `.driverless/`. */
const synthesizeFixture = () =>
  synthesizeFixtureApp(join(__dirname, '..', 'fixtures', 'testing-app', 'synth-testing-app.ts'));

const product = (id: string, price = 10) => ({
  id,
  name: `Product ${id}`,
  price,
  updatedAt: '2026-01-15T10:00:00.000Z',
});

describe('startLocal on a pipeline app', () => {
  let assembly: string;
  let local: LocalPipeline;
  let table: string;

  const items = async () => {
    const out = await local.clients.documents.send(new ScanCommand({ TableName: table }));
    return (out.Items ?? []).map((item) => item.id as string).sort();
  };

  beforeAll(async () => {
    assembly = await synthesizeFixture();
    local = await startLocal({ assembly });
    table = local.resources.tables[0]?.name as string;
  });

  afterAll(async () => {
    await local?.stop();
    await rm(assembly, { recursive: true, force: true });
  });

  afterEach(() => local.faults.clear());

  it('processes every record put, and returns the dead letter of the one that fails the schema', async () => {
    // Given
    await local.put('products', [
      { data: product('p1'), partitionKey: 'p1' },
      { data: product('p2', -1), partitionKey: 'p2' },
      { data: product('p3'), partitionKey: 'p3' },
    ]);

    // When
    const drained = await local.drained({ timeoutMs: 20_000 });

    // Then
    expect(drained).toStrictEqual([
      expect.objectContaining({ stream: 'products', processed: 3, filteredOut: 0, discarded: 0 }),
    ]);
    expect(await items()).toStrictEqual(['p1', 'p3']);
    const letters = await local.deadLetters('products');
    expect(letters.map((l) => [l.partitionKey, l.reason])).toStrictEqual([
      ['p2', expect.stringContaining('schema: price')],
    ]);
  });

  it('retries the batches of a function made to throw twice, then processes them', async () => {
    // Given
    local.faults.function('products', { kind: 'throw', times: 2, message: 'boom' });
    const before = local.invocations('products').length;

    // When: one shard, so the two faults fall on the same batch
    await local.put('products', [{ data: product('p4'), shard: 0 }]);
    await local.drained({ timeoutMs: 20_000 });

    // Then
    const invocations = local.invocations('products').slice(before);
    expect(invocations.map((i) => [i.fault, i.error?.errorMessage])).toStrictEqual([
      ['throw', 'boom'],
      ['throw', 'boom'],
      [undefined, undefined],
    ]);
    expect(invocations[2]?.response).toStrictEqual({ batchItemFailures: [] });
    expect(await items()).toContain('p4');
  });

  it('fails drained naming the mapping that is behind while the table fails, and drains once it recovers', async () => {
    // Given
    local.faults.table(table, { kind: 'fail' });
    await local.put('products', [{ data: product('p5'), shard: 1 }]);

    // When
    const timedOut = local.drained({ timeoutMs: 1_500 });

    // Then
    await expect(timedOut).rejects.toThrow(DrainTimeoutError);
    await expect(timedOut).rejects.toThrow(
      /mapping \S+ \(products → \S+:live\) is 1 records behind \(shardId-000000000001: 1\); last problem: batch on shardId-000000000001 partly failed/,
    );
    local.faults.table(table, { kind: 'none' });
    await local.drained({ timeoutMs: 20_000 });
    expect(await items()).toContain('p5');
  });

  it('kills the function for its next invocation: the batch is retried and nothing is lost', async () => {
    // Given
    local.faults.function('products', { kind: 'kill' });
    const before = local.invocations('products').length;

    // When
    await local.put('products', [{ data: product('p6'), shard: 0 }]);
    await local.drained({ timeoutMs: 20_000 });

    // Then
    const invocations = local.invocations('products').slice(before);
    expect(invocations.map((i) => i.error?.errorType)).toStrictEqual([
      'Runtime.ExitError',
      undefined,
    ]);
    expect(await items()).toContain('p6');
  });

  it('stops every server, once however often it is called', async () => {
    // Given
    const other = await startLocal({ assembly });
    const endpoints = Object.values(other.endpoints);

    // When
    await Promise.all([other.stop(), other.stop()]);
    await other.stop();

    // Then: no server answers any more
    const answers = await Promise.allSettled(endpoints.map((endpoint) => fetch(endpoint)));
    expect(answers.map((answer) => answer.status)).toStrictEqual(endpoints.map(() => 'rejected'));
  });
});
