/**
 * The full fault-injection suite (`npm run test:chaos`): CHAOS_RECORDS records (default 100,000)
 * over 2 sources × 4 shards, with random job failures (2 %), kill -9 of the function every ~50
 * batches, job timeouts, a 30-second outage of the `ordered` job's sink and 1 % poison records.
 * Prints one JSON line with the verdict. Scale and faults are tunable by environment:
 * CHAOS_RECORDS, CHAOS_OUTAGE_MS, CHAOS_JOB_FAILURE_RATE, CHAOS_KILL_EVERY, CHAOS_TIMEOUT_EVERY,
 * CHAOS_WINDOW_RECORDS (KPL sub-records into the tumbling window), CHAOS_SUB_RECORD_FAILURE_RATE.
 */
import { type ChaosStack, startChaosStack } from '../fixtures/chaos/chaos-stack';
import { numberFrom } from '../fixtures/chaos/env';
import { itKeepsTheChaosInvariants } from '../fixtures/chaos/invariants';
import { type ChaosReport, runChaos } from '../fixtures/chaos/run-chaos';

const RECORDS = numberFrom('CHAOS_RECORDS', 100_000);
const TIMEOUT_SECONDS = 15;
// Roughly 1 s per 500 records on two shared cores, plus the outage, plus slack.
const DRAIN_TIMEOUT_MS = 120_000 + RECORDS * 6;
jest.setTimeout(DRAIN_TIMEOUT_MS * 2 + 120_000);

let chaos: ChaosStack;
let report: ChaosReport;

beforeAll(async () => {
  chaos = await startChaosStack({
    checkpoints: true,
    retryAttempts: 10_000,
    timeoutSeconds: TIMEOUT_SECONDS,
    batchSize: 200,
    windows: true,
  });
  report = await runChaos(chaos, {
    records: RECORDS,
    poisonRate: 0.01,
    jobFailureRate: numberFrom('CHAOS_JOB_FAILURE_RATE', 0.02),
    malformedFailureRate: numberFrom('CHAOS_MALFORMED_FAILURE_RATE', 0.01),
    sinkThrowRate: numberFrom('CHAOS_SINK_THROW_RATE', 0.05),
    sinkHangRate: numberFrom('CHAOS_SINK_HANG_RATE', 0.02),
    killEveryBatches: numberFrom('CHAOS_KILL_EVERY', 50),
    timeoutEveryBatches: numberFrom('CHAOS_TIMEOUT_EVERY', 100),
    outageMs: numberFrom('CHAOS_OUTAGE_MS', 30_000),
    functionTimeoutSeconds: TIMEOUT_SECONDS,
    keysPerSource: 200,
    windowRecords: numberFrom('CHAOS_WINDOW_RECORDS', Math.ceil(RECORDS / 20)),
    subRecordFailureRate: numberFrom('CHAOS_SUB_RECORD_FAILURE_RATE', 0.05),
    drainTimeoutMs: DRAIN_TIMEOUT_MS,
    onProgress: (done, total) => process.stderr.write(`chaos: ${done}/${total} records\n`),
  });
  process.stdout.write(`${JSON.stringify(report)}\n`);
});
afterAll(() => chaos?.stop());

describe('fault injection', () => {
  itKeepsTheChaosInvariants(() => report);

  it('injected every kind of fault it was asked for', () => {
    const { faults } = report;
    expect({
      kills: faults.kills > 0 || numberFrom('CHAOS_KILL_EVERY', 50) === 0,
      timeouts: faults.timeouts > 0 || numberFrom('CHAOS_TIMEOUT_EVERY', 100) === 0,
      outage: faults.outageErrors > 0 || numberFrom('CHAOS_OUTAGE_MS', 30_000) === 0,
      jobFailures: faults.jobFailures > 0 || numberFrom('CHAOS_JOB_FAILURE_RATE', 0.02) === 0,
      malformedFailures:
        faults.malformedFailures > 0 || numberFrom('CHAOS_MALFORMED_FAILURE_RATE', 0.01) === 0,
      sinkFaults:
        faults.sinkThrows + faults.sinkHangs > 0 ||
        numberFrom('CHAOS_SINK_THROW_RATE', 0.05) + numberFrom('CHAOS_SINK_HANG_RATE', 0.02) === 0,
      subRecordFailures:
        faults.subRecordFailures > 0 || numberFrom('CHAOS_SUB_RECORD_FAILURE_RATE', 0.05) === 0,
      poison: faults.badJson > 0 && faults.schemaInvalid > 0 && faults.badBase64 > 0,
    }).toEqual({
      kills: true,
      timeouts: true,
      outage: true,
      jobFailures: true,
      malformedFailures: true,
      sinkFaults: true,
      subRecordFailures: true,
      poison: true,
    });
  });
});
