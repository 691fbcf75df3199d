/**
 * `driverless/testing`'s function faults on a real app: a handler that writes a first step to a
 * table, waits, then writes a second, cut by an injected timeout or crash (or its own timeout)
 * while it waits.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalPipeline, startLocal } from 'driverless/testing';
import { synthesizeFixtureApp } from '../fixtures/synthesize-fixture-app';

describe('function faults on a running pipeline', () => {
  let assembly: string;
  let local: LocalPipeline;
  let table: string;

  /** The step each invocation of the records labelled `label` reached, sorted. */
  const stepsOf = async (label: string) => {
    const out = await local.clients.documents.send(new ScanCommand({ TableName: table }));
    return (out.Items ?? [])
      .filter((item) => item.label === label)
      .map((item) => item.step as string)
      .sort();
  };

  /** Puts one record whose invocation waits `holdMs` between its steps, and waits until it is done. */
  const putAndDrain = async (label: string, holdMs: number) => {
    await local.put('steps', [{ data: { label, holdMs }, partitionKey: label }]);
    return local.drained({ timeoutMs: 30_000 });
  };

  beforeAll(async () => {
    assembly = await synthesizeFixtureApp(
      join(__dirname, '..', 'fixtures', 'testing-steps-app', 'synth-steps-app.ts'),
    );
    local = await startLocal({ assembly });
    table = local.resources.tables[0]?.name as string;
  });

  afterAll(async () => {
    await local?.stop();
    if (assembly !== undefined) await rm(assembly, { recursive: true, force: true });
  });

  afterEach(() => local.faults.clear());

  it('cuts an invocation at a timeout fault while the handler runs: the first write stays, the second never comes, and the mapping retries', async () => {
    // Given: the cut comes 1 s into an invocation that waits 2 s between its writes
    local.faults.function('steps', { kind: 'timeout', afterMs: 1000 });
    const before = local.invocations('steps').length;

    // When
    const drained = await putAndDrain('timeout', 2000);

    // Then: the cut invocation stopped after its first write; the retry wrote both
    const invocations = local.invocations('steps').slice(before);
    expect(invocations.map((i) => [i.fault, i.error?.errorType])).toStrictEqual([
      ['timeout', 'Sandbox.Timedout'],
      [undefined, undefined],
    ]);
    expect(invocations[0]?.error?.errorMessage).toMatch(/Task timed out after 5\.00 seconds$/);
    expect(await stepsOf('timeout')).toStrictEqual(['first', 'second']);
    expect(drained).toStrictEqual([
      expect.objectContaining({ stream: 'steps', processed: 1, discarded: 0 }),
    ]);
  });

  it('kills the function mid-handler at a kill fault: the first write stays, the second never comes, and the mapping retries', async () => {
    // Given
    local.faults.function('steps', { kind: 'kill', afterMs: 1000 });
    const before = local.invocations('steps').length;

    // When
    await putAndDrain('kill', 2000);

    // Then
    const invocations = local.invocations('steps').slice(before);
    expect(invocations.map((i) => [i.fault, i.error?.errorType])).toStrictEqual([
      ['kill', 'Runtime.ExitError'],
      [undefined, undefined],
    ]);
    expect(await stepsOf('kill')).toStrictEqual(['first', 'second']);
  });

  it('runs none of the handler under a kill fault with no delay', async () => {
    // Given
    local.faults.function('steps', { kind: 'kill' });

    // When
    await putAndDrain('at-start', 0);

    // Then: only the retry wrote
    expect(await stepsOf('at-start')).toStrictEqual(['second']);
  });

  it("still cuts a handler at the function's own timeout, then discards the record after its retry", async () => {
    // Given: no fault, and an invocation that would wait a minute between its writes (timeout 5 s)
    const before = local.invocations('steps').length;

    // When
    const drained = await putAndDrain('overrun', 60_000);

    // Then
    const invocations = local.invocations('steps').slice(before);
    expect(invocations.map((i) => [i.fault, i.error?.errorMessage])).toStrictEqual([
      [undefined, expect.stringMatching(/Task timed out after 5\.00 seconds$/)],
      [undefined, expect.stringMatching(/Task timed out after 5\.00 seconds$/)],
    ]);
    expect(await stepsOf('overrun')).toStrictEqual(['first', 'first']);
    expect(drained).toStrictEqual([expect.objectContaining({ stream: 'steps', discarded: 1 })]);
  });
});
