/**
 * The fault-injection suite, reduced to run in `npm test`: 2,000 records over 2 sources × 4 shards,
 * and 250 KPL sub-records into a tumbling window, with every fault of `npm run test:chaos`
 * (test/chaos/chaos.test.ts) at a smaller scale; and its stateful scenario
 * (test/chaos/state-chaos.test.ts) over 1,000 records, on a stack of its own.
 */
import { type ChaosStack, startChaosStack } from '../fixtures/chaos/chaos-stack';
import { itKeepsTheChaosInvariants } from '../fixtures/chaos/invariants';
import { type ChaosReport, runChaos } from '../fixtures/chaos/run-chaos';
import { runStateChaos, type StateChaosReport } from '../fixtures/chaos/run-state-chaos';
import { itKeepsTheStateInvariants } from '../fixtures/chaos/state-invariants';

jest.setTimeout(300_000);

const TIMEOUT_SECONDS = 8;
describe('reduced fault injection', () => {
  let chaos: ChaosStack;
  let report: ChaosReport;

  beforeAll(async () => {
    chaos = await startChaosStack({
      checkpoints: true,
      retryAttempts: 10_000,
      timeoutSeconds: TIMEOUT_SECONDS,
      batchSize: 50,
      windows: true,
    });
    report = await runChaos(chaos, {
      records: 2_000,
      poisonRate: 0.01,
      // 2 % of some 80 job runs is often none: the reduced run fails jobs more often, so it always does.
      jobFailureRate: 0.1,
      malformedFailureRate: 0.1,
      // Some 20 deliveries of letters: a quarter each makes a run without either fault unlikely.
      sinkThrowRate: 0.25,
      sinkHangRate: 0.25,
      killEveryBatches: 25,
      timeoutEveryBatches: 60,
      outageMs: 3_000,
      functionTimeoutSeconds: TIMEOUT_SECONDS,
      keysPerSource: 40,
      // Some 100 KPL aggregates in batches of 5 on 2 shards: ~20 job runs, so at 30 % a run without a
      // failed sub-record is unlikely.
      windowRecords: 250,
      subRecordFailureRate: 0.3,
      // Generous: the suite takes ~35 s on a quiet 2-core machine, and far longer when it is shared.
      drainTimeoutMs: 240_000,
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });
  afterAll(() => chaos?.stop());

  itKeepsTheChaosInvariants(() => report);

  it('injected every kind of fault', () => {
    const { faults } = report;
    expect({
      kills: faults.kills > 0,
      timeouts: faults.timeouts > 0,
      outage: faults.outageErrors > 0,
      jobFailures: faults.jobFailures > 0,
      malformedFailures: faults.malformedFailures > 0,
      subRecordFailures: faults.subRecordFailures > 0,
      sinkFaults: faults.sinkThrows > 0 && faults.sinkHangs > 0,
      poison: faults.badJson > 0 && faults.schemaInvalid > 0 && faults.badBase64 > 0,
    }).toEqual({
      kills: true,
      timeouts: true,
      outage: true,
      jobFailures: true,
      malformedFailures: true,
      subRecordFailures: true,
      sinkFaults: true,
      poison: true,
    });
  });
});

describe('reduced fault injection on stateful jobs', () => {
  let chaos: ChaosStack;
  let report: StateChaosReport;

  beforeAll(async () => {
    chaos = await startChaosStack(
      {
        checkpoints: true,
        retryAttempts: 10_000,
        timeoutSeconds: TIMEOUT_SECONDS,
        batchSize: 50,
        state: true,
        stateBatchSize: 50,
      },
      // The stateless sources stay idle here: poll them less.
      { idlePollIntervalMs: 250 },
    );
    report = await runStateChaos(chaos, {
      records: 1_000,
      keys: 6,
      // Some 25 batches and their retries: a kill or two, a timeout, failed jobs and emits. Each
      // kill can leave claims that hold other batches for their 30-second lease: few kills.
      killEveryBatches: 20,
      timeoutEveryBatches: 20,
      outageMs: 2_000,
      emitFailureRate: 0.05,
      jobFailureRate: 0.1,
      functionTimeoutSeconds: TIMEOUT_SECONDS,
      drainTimeoutMs: 240_000,
    });
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });
  afterAll(() => chaos?.stop());

  itKeepsTheStateInvariants(() => report);

  it('injected every kind of fault', () => {
    const { faults } = report;
    expect({
      kills: faults.kills > 0,
      timeouts: faults.timeouts > 0,
      outage: faults.outageErrors > 0,
      emitFailures: faults.emitFailures > 0,
      jobFailures: faults.jobFailures > 0,
    }).toEqual({
      kills: true,
      timeouts: true,
      outage: true,
      emitFailures: true,
      jobFailures: true,
    });
  });
});
