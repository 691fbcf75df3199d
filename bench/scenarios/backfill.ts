// Backfill vs run: the same records of a multi-shard stream processed by `driverless run --stream`
// (one local process reading shard after shard) and by a backfill (slices invoked at once in
// function processes of the local host, each reading its own range). Locally the functions share
// this machine's cores, so this shows the fan-out works, not cloud speed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import type { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { orchestrate } from '../../cli/backfill/orchestrate';
import { planStreamSlices } from '../../cli/backfill/plan-slices';
import { unitsOf } from '../../cli/backfill/progress-store';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../emulator/index';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { spread } from '../stats';
import { benchFunction, bundleFixture, putBulk, startRig } from './local-rig';
import { cell, loadNote, round, sleep, spreadJson } from './report';

export interface BackfillBenchmarkConfig {
  readonly records: number;
  readonly shards: number;
  /** Backfill invocations at once. */
  readonly concurrency: number;
  readonly slicesPerShard: number;
  readonly batchSize: number;
  /** CPU per record in the job, µs. */
  readonly cpuUsPerRecord: number;
  readonly runs: number;
}

export const BACKFILL_FULL: BackfillBenchmarkConfig = {
  records: 40_000,
  shards: 4,
  concurrency: 8,
  slicesPerShard: 2,
  batchSize: 500,
  cpuUsPerRecord: 100,
  runs: 3,
};
export const BACKFILL_QUICK: BackfillBenchmarkConfig = {
  records: 4_000,
  shards: 4,
  concurrency: 4,
  slicesPerShard: 1,
  batchSize: 250,
  cpuUsPerRecord: 100,
  runs: 1,
};

const ROOT = join(__dirname, '..', '..');
const FUNCTION = 'backfill-bench';

/** `driverless run --stream` over the range; its own records/s from the `--json` summary. */
function runCli(
  stream: string,
  endpoint: string,
  fromIso: string,
  config: BackfillBenchmarkConfig,
): Promise<{ records: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    execFile(
      process.execPath,
      [
        join(ROOT, 'bin', 'driverless.mjs'),
        'run',
        'bench/fixtures/backfill-handler.ts',
        '--stream',
        stream,
        '--from',
        fromIso,
        '--endpoint',
        endpoint,
        '--batch-size',
        String(config.batchSize),
        '--json',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          BENCH_CPU_US_PER_RECORD: String(config.cpuUsPerRecord),
          POWERTOOLS_LOG_LEVEL: 'WARN',
          POWERTOOLS_METRICS_DISABLED: 'true',
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout) => {
        const ms = performance.now() - started;
        if (error) return reject(new Error(`driverless run failed: ${error.message}`));
        const last = stdout.trimEnd().split('\n').pop() ?? '{}';
        resolve({ records: (JSON.parse(last) as { records: number }).records, ms });
      },
    );
  });
}

export async function runBackfillBenchmark(
  config: BackfillBenchmarkConfig,
  progress: (message: string) => void = () => undefined,
): Promise<{ backfill: number[]; run: number[] }> {
  const code = await bundleFixture('backfill-handler.ts', FUNCTION);
  const rig = await startRig(
    [benchFunction(FUNCTION, code, { BENCH_CPU_US_PER_RECORD: String(config.cpuUsPerRecord) })],
    {},
  );
  const backfill: number[] = [];
  const run: number[] = [];
  try {
    const name = `backfill-bench-${process.pid}`;
    await rig.kinesis.send(
      new CreateStreamCommand({ StreamName: name, ShardCount: config.shards }),
    );
    while (
      (await rig.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name })))
        .StreamDescriptionSummary?.StreamStatus !== 'ACTIVE'
    ) {
      await sleep(20);
    }
    const arn = `arn:aws:kinesis:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stream/${name}`;
    const fromMs = Date.now() - 1000;
    await putBulk(rig.kinesis, name, config.records);
    const toMs = Date.now() + 1000;
    // The Lambda API of the host, as the CLI's client sees it.
    const lambda = {
      send: async (command: InvokeCommand) => {
        const out = await rig.host.invoke(
          command.input.FunctionName ?? '',
          command.input.Qualifier,
          JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString()),
        );
        return {
          Payload: Buffer.from(out.payloadJson),
          ...(out.functionError ? { FunctionError: out.functionError } : {}),
        };
      },
    } as unknown as LambdaClient;
    for (let i = 0; i < config.runs; i++) {
      progress(`backfill run ${i + 1}/${config.runs}`);
      const plan = await planStreamSlices(
        rig.kinesis,
        arn,
        { fromMs, toMs },
        () => config.slicesPerShard,
      );
      const units = unitsOf(plan, 1);
      let records = 0;
      const started = performance.now();
      await orchestrate(units, {
        lambda,
        functions: [{ name: FUNCTION, timeoutMs: 60_000 }],
        qualifier: 'live',
        backfillId: `bench-${i}`,
        batchSize: config.batchSize,
        ignoreCursors: true,
        concurrency: config.concurrency,
        retries: 0,
        save: async () => undefined,
        stopping: () => false,
        events: {
          onUnit: (_unit, added) => {
            records += added.records;
          },
        },
      });
      const ms = performance.now() - started;
      if (records !== config.records)
        throw new Error(`backfill read ${records} records, expected ${config.records}`);
      backfill.push((records / ms) * 1000);
      progress(`run --stream ${i + 1}/${config.runs}`);
      const local = await runCli(name, rig.server.endpoint, new Date(fromMs).toISOString(), config);
      if (local.records !== config.records)
        throw new Error(`driverless run read ${local.records} records, expected ${config.records}`);
      run.push((local.records / local.ms) * 1000);
    }
  } finally {
    await rig.stop();
  }
  return { backfill, run };
}

function output(
  config: BackfillBenchmarkConfig,
  result: { backfill: number[]; run: number[] },
): ScenarioOutput {
  const m = machine();
  const med = (values: number[]) => spread(values).median;
  const ratio = med(result.backfill) / med(result.run);
  return {
    summary: {
      backfillRecordsPerSec: Math.round(med(result.backfill)),
      runRecordsPerSec: Math.round(med(result.run)),
      ratio: round(ratio, 2),
    },
    detail: {
      description:
        'records/s of a backfill (slices invoked at once in local function processes) vs driverless run --stream (one process, process start included) over the same multi-shard stream range',
      machine: { ...m },
      config: { ...config },
      backfillRecordsPerSec: spreadJson(result.backfill, 0),
      runRecordsPerSec: spreadJson(result.run, 0),
    },
    table: {
      headers: ['measure', 'median (min–max)'],
      rows: [
        [`backfill, ${config.concurrency} at once, records/s`, cell(result.backfill)],
        ['driverless run --stream, records/s', cell(result.run)],
        ['ratio backfill / run', ratio.toFixed(2)],
      ],
    },
    notes: [
      `${config.records} records on ${config.shards} shards, ${config.cpuUsPerRecord} µs of CPU per record, batch size ${config.batchSize}`,
      `the local functions share this machine's ${m.cores} cores: the ratio shows the fan-out works, not what Lambda's fan-out gives`,
      loadNote(m.loadAverage, m.cores),
    ],
    charts: {},
  };
}

export const backfillScenario: Scenario = {
  name: 'backfill',
  description:
    'records/s of a backfill (parallel slices in local function processes) vs driverless run on the same stream range',
  async run(options) {
    const base = options.quick ? BACKFILL_QUICK : BACKFILL_FULL;
    const config = { ...base, ...(options.runs === undefined ? {} : { runs: options.runs }) };
    return output(config, await runBackfillBenchmark(config, options.progress));
  },
};
