/**
 * The stateful scenario of the fault-injection suite (`npm run test:chaos`): STATE_CHAOS_RECORDS
 * records (default 100,000) of random event-time streams over two sources (`clicks`, nine in ten,
 * and `buys`, 2 shards each), each running a tumbling and a session aggregate and one side of a
 * left outer join, with kill -9 of the function every ~50 batches, a state-table request held past
 * the function timeout every ~200 batches, a 30-second outage of the state table, failing `emit`s
 * and failing jobs.
 * What was emitted must equal an in-memory computation over the records the runtime did not call
 * late (test/fixtures/chaos/run-state-chaos.ts). Prints one JSON line with the verdict. Tunable by
 * environment: STATE_CHAOS_RECORDS, STATE_CHAOS_KEYS, STATE_CHAOS_BATCH_SIZE, CHAOS_OUTAGE_MS,
 * CHAOS_KILL_EVERY, CHAOS_TIMEOUT_EVERY, CHAOS_EMIT_FAILURE_RATE, CHAOS_JOB_FAILURE_RATE.
 */
import { type ChaosStack, startChaosStack } from '../fixtures/chaos/chaos-stack';
import { numberFrom } from '../fixtures/chaos/env';
import { runStateChaos, type StateChaosReport } from '../fixtures/chaos/run-state-chaos';
import { itKeepsTheStateInvariants } from '../fixtures/chaos/state-invariants';

const RECORDS = numberFrom('STATE_CHAOS_RECORDS', 100_000);
// A batch of 200 records emits dozens of windows and join results, each a claim, an emit and a
// mark: on two shared cores that can take tens of seconds, and a batch that always times out would
// never drain.
const TIMEOUT_SECONDS = 60;
// Stateful batches cost a state read and a write per (key, window) touched, and emissions a claim,
// an emit and a mark each: far slower per record than the stateless scenario on two shared cores.
const DRAIN_TIMEOUT_MS = 300_000 + RECORDS * 40;
jest.setTimeout(DRAIN_TIMEOUT_MS * 2 + 120_000);

let chaos: ChaosStack;
let report: StateChaosReport;

beforeAll(async () => {
  chaos = await startChaosStack(
    {
      checkpoints: true,
      retryAttempts: 10_000,
      timeoutSeconds: TIMEOUT_SECONDS,
      batchSize: 200,
      state: true,
      stateBatchSize: numberFrom('STATE_CHAOS_BATCH_SIZE', 200),
    },
    // The stateless sources stay idle here: poll them less.
    { idlePollIntervalMs: 250 },
  );
  const started = Date.now();
  report = await runStateChaos(chaos, {
    records: RECORDS,
    keys: numberFrom('STATE_CHAOS_KEYS', 10),
    killEveryBatches: numberFrom('CHAOS_KILL_EVERY', 50),
    timeoutEveryBatches: numberFrom('CHAOS_TIMEOUT_EVERY', 200),
    outageMs: numberFrom('CHAOS_OUTAGE_MS', 30_000),
    emitFailureRate: numberFrom('CHAOS_EMIT_FAILURE_RATE', 0.01),
    jobFailureRate: numberFrom('CHAOS_JOB_FAILURE_RATE', 0.02),
    functionTimeoutSeconds: TIMEOUT_SECONDS,
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    onProgress: (done, total) =>
      process.stderr.write(
        `state chaos: ${done}/${total} records, ${Math.round((Date.now() - started) / 1000)} s\n`,
      ),
  });
  process.stdout.write(`${JSON.stringify({ ...report, totalMs: Date.now() - started })}\n`);
});
afterAll(() => chaos?.stop());

describe('fault injection on stateful jobs', () => {
  itKeepsTheStateInvariants(() => report);

  it('injected every kind of fault it was asked for', () => {
    const { faults } = report;
    expect({
      kills: faults.kills > 0 || numberFrom('CHAOS_KILL_EVERY', 50) === 0,
      timeouts: faults.timeouts > 0 || numberFrom('CHAOS_TIMEOUT_EVERY', 200) === 0,
      outage: faults.outageErrors > 0 || numberFrom('CHAOS_OUTAGE_MS', 30_000) === 0,
      emitFailures: faults.emitFailures > 0 || numberFrom('CHAOS_EMIT_FAILURE_RATE', 0.01) === 0,
      jobFailures: faults.jobFailures > 0 || numberFrom('CHAOS_JOB_FAILURE_RATE', 0.02) === 0,
    }).toEqual({
      kills: true,
      timeouts: true,
      outage: true,
      emitFailures: true,
      jobFailures: true,
    });
  });
});
