// Starvation (wall 1): a cheap source's end-to-end latency and throughput (a) alone, (b) while
// an expensive source is loaded next to it under Driverless (its own function and mapping), and
// (c) under a single-driver loop that polls both streams and processes both in one batch before
// cutting the next (the Spark-like baseline, bench/fixtures/single-driver.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { pairedRatio, spread } from '../stats';
import {
  benchFunction,
  benchMapping,
  bundleFixture,
  Delivery,
  producePaced,
  type Rig,
  startRig,
} from './local-rig';
import {
  cell,
  checkIntegers,
  loadNote,
  percentile,
  round,
  sleep,
  spreadChart,
  spreadJson,
} from './report';

export interface StarvationBenchmarkConfig {
  /** Cheap source rate, records/s. @default 200 */
  readonly cheapRatePerSecond: number;
  /** CPU per cheap record, µs. @default 50 */
  readonly cheapCostUs: number;
  /** Expensive source rate, records/s. @default 300 */
  readonly expensiveRatePerSecond: number;
  /** CPU per expensive record, µs. @default 2000 */
  readonly expensiveCostUs: number;
  /** How long records are produced per variant, ms. @default 5000 */
  readonly durationMs: number;
  /** Pause between polls of a caught-up shard, ms, for the mappings and the driver alike. @default 100 */
  readonly idlePollIntervalMs: number;
  /** @default 3 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const STARVATION_FULL: StarvationBenchmarkConfig = {
  cheapRatePerSecond: 200,
  cheapCostUs: 50,
  expensiveRatePerSecond: 300,
  expensiveCostUs: 2000,
  durationMs: 5000,
  idlePollIntervalMs: 100,
  runs: 3,
};
export const STARVATION_QUICK: StarvationBenchmarkConfig = {
  cheapRatePerSecond: 50,
  cheapCostUs: 10,
  expensiveRatePerSecond: 50,
  expensiveCostUs: 500,
  durationMs: 600,
  idlePollIntervalMs: 50,
  runs: 1,
};

export const STARVATION_VARIANTS = ['solo', 'isolated', 'singleDriver'] as const;
export type StarvationVariant = (typeof STARVATION_VARIANTS)[number];

const LABELS: Record<StarvationVariant, string> = {
  solo: '(a) cheap source alone',
  isolated: '(b) + expensive, Driverless',
  singleDriver: '(c) + expensive, single driver',
};

export interface StarvationSample {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly recordsPerSec: number;
}

export interface StarvationBenchmarkResult {
  readonly config: Omit<StarvationBenchmarkConfig, 'progress'>;
  readonly samples: Record<StarvationVariant, StarvationSample[]>;
}

const CHEAP = 'cheap-source';
const EXPENSIVE = 'expensive-source';

/** Cheap-record latencies (ms) and when the last one was processed (epoch ms). */
interface VariantRun {
  readonly latenciesMs: number[];
  readonly lastAt: number;
}

async function runDriverless(
  rig: Rig,
  config: StarvationBenchmarkConfig,
  withExpensive: boolean,
): Promise<{ run: VariantRun; startedAt: number }> {
  const cheap = await rig.createStream('cheap');
  const expensive = await rig.createStream('expensive');
  const cheapDelivery = new Delivery();
  const mappings = [rig.startMapping(benchMapping(cheap.arn, CHEAP), cheapDelivery.listener)];
  if (withExpensive) mappings.push(rig.startMapping(benchMapping(expensive.arn, EXPENSIVE)));
  await Promise.all(mappings.map((mapping) => mapping.ready));
  const startedAt = Date.now();
  const [put] = await Promise.all([
    producePaced(rig.kinesis, cheap.name, config.cheapRatePerSecond, config.durationMs),
    withExpensive
      ? producePaced(rig.kinesis, expensive.name, config.expensiveRatePerSecond, config.durationMs)
      : Promise.resolve(0),
  ]);
  const done = await cheapDelivery.waitFor(put, 60_000);
  await Promise.all(mappings.map((mapping) => mapping.stop()));
  if (done === undefined)
    throw new Error(
      `starvation: ${cheapDelivery.sequenceNumbers.size} of ${put} cheap records processed in 60 s`,
    );
  const lastAt = cheapDelivery.checkpoints[cheapDelivery.checkpoints.length - 1]?.at ?? startedAt;
  return { run: { latenciesMs: cheapDelivery.latenciesMs, lastAt }, startedAt };
}

async function runSingleDriver(
  rig: Rig,
  config: StarvationBenchmarkConfig,
  driverCode: string,
): Promise<{ run: VariantRun; startedAt: number }> {
  const cheap = await rig.createStream('cheap');
  const expensive = await rig.createStream('expensive');
  const child: ChildProcess = spawn(process.execPath, [join(driverCode, 'index.js')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      BENCH_DRIVER: JSON.stringify({
        endpoint: rig.server.endpoint,
        streams: [
          { name: cheap.name, costUs: config.cheapCostUs },
          { name: expensive.name, costUs: config.expensiveCostUs },
        ],
        idlePollIntervalMs: config.idlePollIntervalMs,
      }),
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const latenciesMs: number[] = [];
  let lastAt = 0;
  let wanted = Number.POSITIVE_INFINITY;
  let reached: () => void = () => undefined;
  const allSeen = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    const batch = JSON.parse(line) as { latenciesMs: number[][] };
    const cheapLatencies = batch.latenciesMs[0] ?? [];
    if (cheapLatencies.length > 0) lastAt = Date.now();
    latenciesMs.push(...cheapLatencies);
    if (latenciesMs.length >= wanted) reached();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  try {
    // The driver opens its iterators at TRIM_HORIZON: nothing is missed while it starts.
    await sleep(200);
    const startedAt = Date.now();
    const [put] = await Promise.all([
      producePaced(rig.kinesis, cheap.name, config.cheapRatePerSecond, config.durationMs),
      producePaced(rig.kinesis, expensive.name, config.expensiveRatePerSecond, config.durationMs),
    ]);
    wanted = put;
    if (latenciesMs.length >= wanted) reached();
    const outcome = await Promise.race([
      allSeen.then(() => 'done' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), 60_000);
      }),
    ]);
    clearTimeout(timer);
    if (outcome !== 'done') {
      throw new Error(
        `single driver ${outcome}: ${latenciesMs.length} of ${put} cheap records; ${stderr.trim()}`,
      );
    }
    return { run: { latenciesMs, lastAt }, startedAt };
  } finally {
    clearTimeout(timer);
    lines.close();
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  }
}

export async function runStarvationBenchmark(
  config: StarvationBenchmarkConfig,
): Promise<StarvationBenchmarkResult> {
  checkIntegers(
    config,
    ['cheapRatePerSecond', 'expensiveRatePerSecond', 'durationMs', 'idlePollIntervalMs', 'runs'],
    1,
  );
  checkIntegers(config, ['cheapCostUs', 'expensiveCostUs'], 0);
  const progress = config.progress ?? (() => undefined);
  const cheapCode = await bundleFixture('cpu-handler.ts', 'starvation-handler');
  const driverCode = await bundleFixture('single-driver.ts', 'single-driver');
  const rig = await startRig(
    [
      benchFunction(CHEAP, cheapCode, { BENCH_CPU_US_PER_RECORD: String(config.cheapCostUs) }),
      benchFunction(EXPENSIVE, cheapCode, {
        BENCH_CPU_US_PER_RECORD: String(config.expensiveCostUs),
      }),
    ],
    { idlePollIntervalMs: config.idlePollIntervalMs },
  );
  const samples = Object.fromEntries(
    STARVATION_VARIANTS.map((v) => [v, [] as StarvationSample[]]),
  ) as Record<StarvationVariant, StarvationSample[]>;
  try {
    await Promise.all([
      rig.host.invoke(CHEAP, 'live', { Records: [] }),
      rig.host.invoke(EXPENSIVE, 'live', { Records: [] }),
    ]);
    for (let run = 0; run < config.runs; run++) {
      for (let i = 0; i < STARVATION_VARIANTS.length; i++) {
        const variant = STARVATION_VARIANTS[
          (run + i) % STARVATION_VARIANTS.length
        ] as StarvationVariant;
        progress(`starvation: run ${run + 1}/${config.runs}: ${LABELS[variant]}`);
        const { run: measured, startedAt } =
          variant === 'singleDriver'
            ? await runSingleDriver(rig, config, driverCode)
            : await runDriverless(rig, config, variant === 'isolated');
        samples[variant].push({
          p50Ms: percentile(measured.latenciesMs, 50),
          p99Ms: percentile(measured.latenciesMs, 99),
          recordsPerSec: measured.latenciesMs.length / ((measured.lastAt - startedAt) / 1000),
        });
      }
    }
  } finally {
    await rig.stop();
  }
  return { config: (({ progress: _, ...rest }) => rest)(config), samples };
}

export function starvationOutput(result: StarvationBenchmarkResult): ScenarioOutput {
  const m = machine();
  const { samples, config } = result;
  const of = (v: StarvationVariant, key: keyof StarvationSample) => samples[v].map((s) => s[key]);
  const p99Ratio = (v: StarvationVariant) => pairedRatio(of(v, 'p99Ms'), of('solo', 'p99Ms'));
  const isolated = p99Ratio('isolated');
  const single = p99Ratio('singleDriver');
  const med = (v: StarvationVariant) => round(spread(of(v, 'p99Ms')).median);
  return {
    summary: {
      soloP99Ms: med('solo'),
      isolatedP99Ms: med('isolated'),
      singleDriverP99Ms: med('singleDriver'),
    },
    detail: {
      description:
        'cheap source latency (arrival → processed) and throughput alone, next to an expensive source under Driverless, and under a single-driver loop',
      machine: { ...m },
      config: { ...config },
      variants: Object.fromEntries(
        STARVATION_VARIANTS.map((v) => [
          v,
          {
            p50Ms: spreadJson(of(v, 'p50Ms'), 1),
            p99Ms: spreadJson(of(v, 'p99Ms'), 1),
            recordsPerSec: spreadJson(of(v, 'recordsPerSec'), 1),
          },
        ]),
      ),
      p99Ratios: {
        isolatedVsSolo: spreadJson(
          of('isolated', 'p99Ms').map((v, i) => v / (of('solo', 'p99Ms')[i] as number)),
          3,
        ),
        singleDriverVsSolo: spreadJson(
          of('singleDriver', 'p99Ms').map((v, i) => v / (of('solo', 'p99Ms')[i] as number)),
          3,
        ),
      },
    },
    table: {
      headers: ['cheap source', 'p50 ms', 'p99 ms', 'records/s', 'p99 / (a)'],
      rows: STARVATION_VARIANTS.map((v) => [
        LABELS[v],
        cell(of(v, 'p50Ms')),
        cell(of(v, 'p99Ms')),
        cell(of(v, 'recordsPerSec')),
        v === 'solo' ? '1.00' : p99Ratio(v).median.toFixed(2),
      ]),
    },
    notes: [
      `goal (b)/(a) ≤ 1.2 at p99: ${isolated.median.toFixed(2)} (${isolated.min.toFixed(2)}–${isolated.max.toFixed(2)}) ${isolated.median <= 1.2 ? 'met' : 'MISSED'}`,
      `(c)/(a) at p99: ${single.median.toFixed(2)} (${single.min.toFixed(2)}–${single.max.toFixed(2)})`,
      loadNote(m.loadAverage, m.cores),
      `cheap ${config.cheapRatePerSecond} records/s × ${config.cheapCostUs} µs, expensive ${config.expensiveRatePerSecond} records/s × ${config.expensiveCostUs} µs; poll interval ${config.idlePollIntervalMs} ms`,
    ],
    charts: {
      'starvation.svg': spreadChart(
        'Starvation: cheap source p99 latency',
        `cheap ${config.cheapRatePerSecond}/s × ${config.cheapCostUs} µs next to expensive ${config.expensiveRatePerSecond}/s × ${config.expensiveCostUs} µs`,
        'ms, arrival → processed (lower is better)',
        STARVATION_VARIANTS.map((v) => ({
          label: LABELS[v],
          values: of(v, 'p99Ms'),
          color: v === 'isolated' ? '#2e7d32' : v === 'solo' ? '#9e9e9e' : '#f0a04b',
          ...(v === 'solo' ? {} : { note: `${p99Ratio(v).median.toFixed(2)}× alone` }),
        })),
        m,
      ),
    },
  };
}

/** Overrides of the loads from the environment (`BENCH_STARVATION_EXPENSIVE_US=1000 npm run bench -- starvation`). */
export const STARVATION_ENVIRONMENT = {
  BENCH_STARVATION_CHEAP_RATE: 'cheapRatePerSecond',
  BENCH_STARVATION_CHEAP_US: 'cheapCostUs',
  BENCH_STARVATION_EXPENSIVE_RATE: 'expensiveRatePerSecond',
  BENCH_STARVATION_EXPENSIVE_US: 'expensiveCostUs',
  BENCH_STARVATION_DURATION_MS: 'durationMs',
} as const satisfies Record<string, keyof StarvationBenchmarkConfig>;

/** The loads the environment sets; values are checked with the rest of the configuration. */
export function starvationEnvironment(
  env: NodeJS.ProcessEnv,
): Partial<Record<(typeof STARVATION_ENVIRONMENT)[keyof typeof STARVATION_ENVIRONMENT], number>> {
  const overrides: Partial<Record<string, number>> = {};
  for (const [variable, key] of Object.entries(STARVATION_ENVIRONMENT)) {
    const text = env[variable];
    if (text === undefined || text === '') continue;
    const value = Number(text);
    if (!Number.isInteger(value)) {
      throw new RangeError(`${variable} must be an integer (given ${text})`);
    }
    overrides[key] = value;
  }
  return overrides;
}

export const starvationScenario: Scenario = {
  name: 'starvation',
  description:
    'cheap source latency alone, next to an expensive one (Driverless), and under a single driver',
  async run(options) {
    const base = options.quick ? STARVATION_QUICK : STARVATION_FULL;
    return starvationOutput(
      await runStarvationBenchmark({
        ...base,
        ...starvationEnvironment(process.env),
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        progress: options.progress,
      }),
    );
  },
};
