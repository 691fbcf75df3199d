/**
 * The end of a `driverless run` input: one final tick after the last record, so stateful jobs
 * emit their open windows, without changing a run of a handler that has none.
 */
import type { KinesisEvent } from 'driverless/runtime';
import { BatchRunner } from '../../../cli/run/batch-runner';
import { finalTickEvent, RUN_STATE_TABLE, setRunStateTable } from '../../../cli/run/final-tick';
import type { LoadedHandler } from '../../../cli/run/load-handler';
import { InvalidEventError } from '../../../functions/runtime/errors';
import { kinesisRecord, sequenceNumber } from '../../fixtures/kinesis-events';

const NOW = new Date('2026-12-02T06:30:00.000Z');

/** A handler answering records with no failure and ticks with `onTick`, recording every event. */
function recording(onTick: (call: number) => unknown = () => ({ batchItemFailures: [] })): {
  handler: LoadedHandler;
  seen: unknown[];
} {
  const seen: unknown[] = [];
  let ticks = 0;
  const handler: LoadedHandler = async (event) => {
    seen.push(event);
    if (event.Records !== undefined) return { batchItemFailures: [] };
    ticks += 1;
    const answer = onTick(ticks);
    if (answer instanceof Error) throw answer;
    return answer as undefined;
  };
  return { handler, seen };
}

const BATCH: KinesisEvent = {
  Records: [kinesisRecord({ sequenceNumber: sequenceNumber(1), data: { n: 1 } })],
};

describe('finalTickEvent', () => {
  test('is a tick of the source at the time given, marked final', () => {
    // then
    expect(finalTickEvent('orders', NOW)).toStrictEqual({
      driverless: 'tick',
      source: 'orders',
      time: '2026-12-02T06:30:00.000Z',
      final: true,
    });
  });
});

describe('setRunStateTable', () => {
  test('keeps state in memory when no table is named', () => {
    // given
    const env: NodeJS.ProcessEnv = {};
    // when
    setRunStateTable(env);
    // then
    expect(env.DRIVERLESS_STATE_TABLE).toBe(RUN_STATE_TABLE);
  });

  test('keeps the table the user named', () => {
    // given
    const env: NodeJS.ProcessEnv = { DRIVERLESS_STATE_TABLE: 'my-state' };
    // when
    setRunStateTable(env);
    // then
    expect(env.DRIVERLESS_STATE_TABLE).toBe('my-state');
  });
});

describe('BatchRunner.finalTick', () => {
  test('invokes the handler once with the tick, after the records, without counting it', async () => {
    // given
    const { handler, seen } = recording();
    const runner = new BatchRunner(handler, 'orders');
    await runner.run(BATCH);
    // when
    const took = await runner.finalTick(finalTickEvent('orders', NOW));
    // then
    expect(took).toBe(true);
    expect(seen).toStrictEqual([BATCH, finalTickEvent('orders', NOW)]);
    expect(runner.summary).toMatchObject({ batches: 1, invocations: 1, records: 1 });
    expect(runner.summary.finalTickFailed).toBeUndefined();
  });

  test('leaves the run as it was for a handler that predates ticks', async () => {
    // given
    const { handler } = recording(() => new InvalidEventError('not a Kinesis event'));
    const runner = new BatchRunner(handler, 'orders');
    await runner.run(BATCH);
    const before = structuredClone(runner.summary);
    // when
    const took = await runner.finalTick(finalTickEvent('orders', NOW));
    // then
    expect(took).toBe(false);
    expect(runner.summary).toStrictEqual(before);
  });

  test('retries a failing tick and succeeds when an attempt does', async () => {
    // given
    const { handler, seen } = recording((call) =>
      call === 1 ? new Error('state table throttled') : { batchItemFailures: [] },
    );
    const runner = new BatchRunner(handler, 'orders');
    // when
    const took = await runner.finalTick(finalTickEvent('orders', NOW));
    // then
    expect(took).toBe(true);
    expect(seen).toHaveLength(2);
    expect(runner.summary.finalTickFailed).toBeUndefined();
  });

  test('fails the run if the tick still fails after 3 attempts', async () => {
    // given
    const { handler, seen } = recording(() => new Error('emit failed'));
    const runner = new BatchRunner(handler, 'orders');
    // when
    const took = await runner.finalTick(finalTickEvent('orders', NOW));
    // then
    expect(took).toBe(false);
    expect(seen).toHaveLength(3);
    expect(runner.summary).toMatchObject({
      finalTickFailed: true,
      lastError: 'Error: emit failed',
    });
  });
});
