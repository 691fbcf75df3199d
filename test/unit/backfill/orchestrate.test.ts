import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type OrchestrateOptions, orchestrate } from '../../../cli/backfill/orchestrate';
import type { PlannedSlice } from '../../../cli/backfill/plan-slices';
import { type Unit, unitsOf } from '../../../cli/backfill/progress-store';
import type {
  BackfillEvent,
  BackfillResult,
} from '../../../functions/runtime/backfill/backfill-event';

const STREAM = 'arn:aws:kinesis:us-east-1:123456789012:stream/s';
const counts = (records: number) => ({
  batches: 1,
  invocations: 1,
  records,
  deadLettered: 0,
  failed: 0,
  jobs: {},
});

function shardSlice(id: string, after: string[] = []): PlannedSlice {
  return {
    slice: { kind: 'shard', id, streamArn: STREAM, shardId: id, fromMs: 0, toMs: 1000 },
    after,
  };
}

/** A Lambda client whose Invoke answers with `answer(event)`; records every event. */
function lambdaOf(answer: (event: BackfillEvent) => BackfillResult | Error): {
  lambda: LambdaClient;
  events: BackfillEvent[];
} {
  const events: BackfillEvent[] = [];
  const lambda = {
    send: async (command: unknown) => {
      if (!(command instanceof InvokeCommand)) throw new Error('unexpected call');
      const event = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString());
      events.push(event);
      const result = answer(event);
      return result instanceof Error
        ? {
            FunctionError: 'Unhandled',
            Payload: Buffer.from(
              JSON.stringify({ errorType: 'Error', errorMessage: result.message }),
            ),
          }
        : { Payload: Buffer.from(JSON.stringify(result)) };
    },
  } as unknown as LambdaClient;
  return { lambda, events };
}

function options(
  lambda: LambdaClient,
  overrides: Partial<OrchestrateOptions> = {},
): OrchestrateOptions {
  return {
    lambda,
    functions: [{ name: 'f', timeoutMs: 60_000 }],
    qualifier: 'live',
    backfillId: 'b.1',
    batchSize: 100,
    ignoreCursors: false,
    concurrency: 4,
    retries: 2,
    save: async () => undefined,
    stopping: () => false,
    sleep: async () => undefined,
    ...overrides,
  };
}

const done = (event: BackfillEvent): BackfillResult => ({
  driverless: 'backfill',
  sliceId: event.slice.id,
  done: true,
  counts: counts(1),
});

describe('orchestrate', () => {
  it('invokes a child shard only after every slice of its parents ended', async () => {
    // given
    const units = unitsOf(
      [shardSlice('child', ['p1', 'p2']), shardSlice('p1'), shardSlice('p2')],
      1,
    );
    const { lambda, events } = lambdaOf(done);
    // when
    await orchestrate(units, options(lambda));
    // then
    expect(events.map((e) => e.slice.id)).toStrictEqual(['p1', 'p2', 'child']);
  });

  it('invokes a slice again from the continuation it answered until it is done', async () => {
    // given
    const units = unitsOf([shardSlice('s')], 1);
    const { lambda, events } = lambdaOf((event) => ({
      driverless: 'backfill',
      sliceId: 's',
      done: event.continuation !== undefined,
      continuation: { afterSequenceNumber: '7' },
      counts: counts(5),
    }));
    // when
    await orchestrate(units, options(lambda));
    // then
    expect(events.map((e) => e.continuation)).toStrictEqual([
      undefined,
      { afterSequenceNumber: '7' },
    ]);
    expect({ state: units[0]?.state, records: units[0]?.counts.records }).toStrictEqual({
      state: 'done',
      records: 10,
    });
  });

  it('fails a slice after its retries, from its last continuation each time, and goes on with the rest', async () => {
    // given
    const units = unitsOf([shardSlice('bad'), shardSlice('good')], 1);
    const { lambda, events } = lambdaOf((event) =>
      event.slice.id === 'bad' ? new Error('boom') : done(event),
    );
    // when
    await orchestrate(units, options(lambda, { retries: 2 }));
    // then
    expect(events.filter((e) => e.slice.id === 'bad')).toHaveLength(3);
    expect(units.map((u: Unit) => [u.slice.id, u.state, u.lastError])).toStrictEqual([
      ['bad', 'failed', 'Error: boom'],
      ['good', 'done', undefined],
    ]);
  });

  it('waits for the lease of a slice an earlier orchestrator left running before invoking it', async () => {
    // given: the slice was invoked until 30 s from now
    const units = unitsOf([shardSlice('s')], 1);
    (units[0] as Unit).state = 'running';
    (units[0] as Unit).leaseUntil = 1_030_000;
    const waits: number[] = [];
    const { lambda } = lambdaOf(done);
    // when
    await orchestrate(
      units,
      options(lambda, { now: () => 1_000_000, sleep: async (ms) => void waits.push(ms) }),
    );
    // then
    expect(waits).toStrictEqual([30_000]);
  });

  it('keeps at most the concurrency in flight', async () => {
    // given
    const units = unitsOf(
      ['a', 'b', 'c', 'd', 'e'].map((id) => shardSlice(id)),
      1,
    );
    let inFlight = 0;
    let most = 0;
    const lambda = {
      send: async (command: InvokeCommand) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        const event = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString());
        return { Payload: Buffer.from(JSON.stringify(done(event))) };
      },
    } as unknown as LambdaClient;
    // when
    await orchestrate(units, options(lambda, { concurrency: 2 }));
    // then
    expect(most).toBe(2);
  });
});
