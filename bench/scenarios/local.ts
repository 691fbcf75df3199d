// Local end-to-end: records through the local stack (kinesalite → event source mapping →
// function process running microBatch → checkpoint) against kinesalite's own GetRecords
// throughput on the same data, and end-to-end latency at a steady rate.
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { pairedRatio, spread } from '../stats';
import {
  benchFunction,
  benchMapping,
  bundleFixture,
  Delivery,
  producePaced,
  putBulk,
  type Rig,
  startRig,
} from './local-rig';
import {
  cell,
  checkIntegers,
  loadNote,
  percentile,
  round,
  spreadChart,
  spreadJson,
} from './report';

export interface LocalBenchmarkConfig {
  /** Records read back-to-back for throughput. @default 100000 */
  readonly records: number;
  /** Mapping batch size for the throughput run (AWS maximum 10000). @default 10000 */
  readonly batchSize: number;
  /** Steady rate of the latency run, records/s. @default 500 */
  readonly ratePerSecond: number;
  /** Length of the latency run, ms. @default 4000 */
  readonly latencyDurationMs: number;
  /** The mapping's pause between polls of a caught-up shard, ms (AWS: 1000). @default 100 */
  readonly idlePollIntervalMs: number;
  /** @default 5 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const LOCAL_FULL: LocalBenchmarkConfig = {
  // Ten full batches: with two, a run measured the mapping's start and its last invocation (which
  // no read can overlap) more than its throughput.
  records: 100_000,
  batchSize: 10_000,
  ratePerSecond: 500,
  latencyDurationMs: 4000,
  idlePollIntervalMs: 100,
  runs: 5,
};
export const LOCAL_QUICK: LocalBenchmarkConfig = {
  records: 300,
  batchSize: 100,
  ratePerSecond: 100,
  latencyDurationMs: 500,
  idlePollIntervalMs: 50,
  runs: 1,
};

export interface LocalBenchmarkResult {
  readonly config: Omit<LocalBenchmarkConfig, 'progress'>;
  readonly endToEndRecordsPerSec: number[];
  readonly rawRecordsPerSec: number[];
  readonly p50Ms: number[];
  readonly p99Ms: number[];
}

const FUNCTION = 'local-e2e';

/** Reads the stream's only shard from TRIM_HORIZON until `count` records came back. */
async function rawRead(rig: Rig, stream: string, count: number): Promise<number> {
  const started = performance.now();
  const { ShardIterator } = await rig.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: stream,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  let iterator = ShardIterator;
  let read = 0;
  while (read < count && iterator) {
    const out = await rig.kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
    );
    read += out.Records?.length ?? 0;
    iterator = out.NextShardIterator;
  }
  if (read < count) throw new Error(`raw read: ${read} of ${count} records came back`);
  return count / ((performance.now() - started) / 1000);
}

export async function runLocalBenchmark(
  config: LocalBenchmarkConfig,
): Promise<LocalBenchmarkResult> {
  checkIntegers(
    config,
    ['records', 'batchSize', 'ratePerSecond', 'latencyDurationMs', 'idlePollIntervalMs', 'runs'],
    1,
  );
  const progress = config.progress ?? (() => undefined);
  const code = await bundleFixture('cpu-handler.ts', FUNCTION);
  const rig = await startRig([benchFunction(FUNCTION, code)], {
    idlePollIntervalMs: config.idlePollIntervalMs,
  });
  const result: LocalBenchmarkResult = {
    config: (({ progress: _, ...rest }) => rest)(config),
    endToEndRecordsPerSec: [],
    rawRecordsPerSec: [],
    p50Ms: [],
    p99Ms: [],
  };
  try {
    // Warm the function once, as a stream that flows keeps it warm.
    await rig.host.invoke(FUNCTION, 'live', { Records: [] });
    for (let run = 0; run < config.runs; run++) {
      progress(`local: run ${run + 1}/${config.runs}: loading ${config.records} records`);
      const stream = await rig.createStream('local');
      await putBulk(rig.kinesis, stream.name, config.records);

      const raw = await rawRead(rig, stream.name, config.records);
      const delivery = new Delivery();
      const started = performance.now();
      const mapping = rig.startMapping(
        benchMapping(stream.arn, FUNCTION, { batchSize: config.batchSize }),
        delivery.listener,
      );
      const done = await delivery.waitFor(config.records, 120_000);
      await mapping.stop();
      if (done === undefined)
        throw new Error(
          `local: ${delivery.sequenceNumbers.size} of ${config.records} records processed in 120 s (${delivery.errors[0] ?? 'no error seen'})`,
        );
      result.rawRecordsPerSec.push(raw);
      result.endToEndRecordsPerSec.push(config.records / ((done - started) / 1000));

      progress(
        `local: run ${run + 1}/${config.runs}: latency at ${config.ratePerSecond} records/s`,
      );
      const steady = await rig.createStream('local-steady');
      const latency = new Delivery();
      const steadyMapping = rig.startMapping(benchMapping(steady.arn, FUNCTION), latency.listener);
      await steadyMapping.ready;
      const put = await producePaced(
        rig.kinesis,
        steady.name,
        config.ratePerSecond,
        config.latencyDurationMs,
      );
      const drained = await latency.waitFor(put, 60_000);
      await steadyMapping.stop();
      if (drained === undefined)
        throw new Error(
          `local: ${latency.sequenceNumbers.size} of ${put} steady records processed in 60 s`,
        );
      result.p50Ms.push(percentile(latency.latenciesMs, 50));
      result.p99Ms.push(percentile(latency.latenciesMs, 99));
    }
  } finally {
    await rig.stop();
  }
  return result;
}

export function localOutput(result: LocalBenchmarkResult): ScenarioOutput {
  const m = machine();
  const ratio = pairedRatio(result.endToEndRecordsPerSec, result.rawRecordsPerSec);
  const med = (values: number[]) => spread(values).median;
  return {
    summary: {
      endToEndRecordsPerSec: Math.round(med(result.endToEndRecordsPerSec)),
      emulatorRawRecordsPerSec: Math.round(med(result.rawRecordsPerSec)),
      p50Ms: round(med(result.p50Ms)),
      p99Ms: round(med(result.p99Ms)),
    },
    detail: {
      description:
        'records/s through kinesalite → mapping → function (microBatch) → checkpoint vs kinesalite GetRecords alone; latency arrival → checkpoint at a steady rate',
      machine: { ...m },
      config: { ...result.config },
      endToEndRecordsPerSec: spreadJson(result.endToEndRecordsPerSec, 0),
      emulatorRawRecordsPerSec: spreadJson(result.rawRecordsPerSec, 0),
      ratio: spreadJson(
        result.endToEndRecordsPerSec.map((v, i) => v / (result.rawRecordsPerSec[i] as number)),
        3,
      ),
      p50Ms: spreadJson(result.p50Ms, 1),
      p99Ms: spreadJson(result.p99Ms, 1),
    },
    table: {
      headers: ['measure', 'median (min–max)'],
      rows: [
        ['end to end, records/s', cell(result.endToEndRecordsPerSec)],
        ['kinesalite GetRecords alone, records/s', cell(result.rawRecordsPerSec)],
        [
          'ratio end to end / raw',
          `${ratio.median.toFixed(2)} (${ratio.min.toFixed(2)}–${ratio.max.toFixed(2)})`,
        ],
        [`latency p50 at ${result.config.ratePerSecond} records/s, ms`, cell(result.p50Ms)],
        [`latency p99 at ${result.config.ratePerSecond} records/s, ms`, cell(result.p99Ms)],
      ],
    },
    notes: [
      `goal end to end ≥ 0.9× raw: ${ratio.median.toFixed(2)}× ${ratio.median >= 0.9 ? 'met' : 'MISSED'}`,
      loadNote(m.loadAverage, m.cores),
      `latency includes the mapping's idle poll interval (${result.config.idlePollIntervalMs} ms here; AWS polls a caught-up shard about once per second)`,
    ],
    charts: {
      'local.svg': spreadChart(
        'Local end to end: throughput',
        `${result.config.records} records on 1 shard, batch size ${result.config.batchSize}`,
        'records/s (higher is better)',
        [
          { label: 'kinesalite GetRecords', values: result.rawRecordsPerSec, color: '#9e9e9e' },
          {
            label: 'local stack end to end',
            values: result.endToEndRecordsPerSec,
            color: '#2e7d32',
            note: `${ratio.median.toFixed(2)}× raw`,
          },
        ],
        m,
      ),
    },
  };
}

export const localScenario: Scenario = {
  name: 'local',
  description: 'records/s and latency through the local stack vs the Kinesis emulator alone',
  async run(options) {
    const base = options.quick ? LOCAL_QUICK : LOCAL_FULL;
    return localOutput(
      await runLocalBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        progress: options.progress,
      }),
    );
  },
};
