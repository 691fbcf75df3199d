// Jobs per batch (wall 2): three jobs on one source whose sinks take 100/200/300 ms, all reading
// one CPU-bound stage. Driverless runs them concurrently over one shared stage; the baselines run
// them one after another (sharing the stage), or concurrently with each job computing its own.
import {
  type BatchResponse,
  json,
  memoryDeadLetters,
  microBatch,
  type StreamRecord,
} from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../test/fixtures/kinesis-events';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { pairedRatio, spread } from '../stats';
import { cell, checkIntegers, round, sleep, spin, spreadChart, spreadJson } from './report';

export interface JobsBenchmarkConfig {
  /** Records in the batch. @default 1000 */
  readonly records: number;
  /** Sink time of each job, in ms; the slowest one sets the goal. @default [100, 200, 300] */
  readonly sinkMs: readonly number[];
  /** CPU time of the shared stage, in ms. @default 50 */
  readonly stageMs: number;
  /** @default 1 */
  readonly warmupRuns: number;
  /** @default 5 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const JOBS_FULL: JobsBenchmarkConfig = {
  records: 1000,
  sinkMs: [100, 200, 300],
  stageMs: 50,
  warmupRuns: 1,
  runs: 5,
};
export const JOBS_QUICK: JobsBenchmarkConfig = {
  records: 20,
  sinkMs: [10, 20, 30],
  stageMs: 5,
  warmupRuns: 0,
  runs: 1,
};

export const JOB_VARIANTS = ['slowestAlone', 'driverless', 'sequential', 'recompute'] as const;
export type JobVariant = (typeof JOB_VARIANTS)[number];

const LABELS: Record<JobVariant, string> = {
  slowestAlone: 'slowest job alone',
  driverless: 'Driverless (concurrent, shared stage)',
  sequential: 'sequential jobs',
  recompute: 'concurrent, stage per job',
};

export interface JobsBenchmarkResult {
  readonly config: Omit<JobsBenchmarkConfig, 'progress'>;
  /** Batch wall time of every measured run, per variant (ms). */
  readonly batchMs: Record<JobVariant, number[]>;
  /** Stage evaluations per batch, per variant (the same in every run). */
  readonly stageEvaluations: Record<JobVariant, number>;
}

interface View {
  readonly n: number;
}

export async function runJobsBenchmark(config: JobsBenchmarkConfig): Promise<JobsBenchmarkResult> {
  checkIntegers(config, ['records', 'runs'], 1);
  checkIntegers(config, ['warmupRuns', 'stageMs'], 0);
  if (config.sinkMs.length === 0 || config.sinkMs.some((ms) => !(ms >= 0))) {
    throw new RangeError(`sinkMs must be a non-empty list of times ≥ 0 (given ${config.sinkMs})`);
  }
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const progress = config.progress ?? (() => undefined);
  const event = kinesisEvent(
    Array.from({ length: config.records }, (_, n) => ({ data: { n }, partitionKey: `k${n}` })),
  );
  const context = lambdaContext({ remainingMs: 3_600_000 });
  const slowest = Math.max(...config.sinkMs);
  let evaluations = 0;
  // The stage: CPU-bound work over the batch's records (a stand-in for a join or an aggregation).
  const stage = (values: readonly View[]) => {
    evaluations += 1;
    spin(config.stageMs * 1000);
    return values.reduce((sum, value) => sum + value.n, 0);
  };
  const decodeAll = () =>
    event.Records.map(
      (record) => JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as View,
    );
  // A sink: I/O that takes `ms` (a write to a table or a queue); it needs the stage's result.
  const sink = async (ms: number, total: number) => {
    if (!Number.isFinite(total)) throw new Error('the stage produced no total');
    await sleep(ms);
  };

  const driverless = microBatch({
    decode: json<View>(),
    deadLetters: memoryDeadLetters(),
    stages: {
      total: (records: readonly StreamRecord<View>[]) =>
        stage(records.map((record) => record.data)),
    },
    jobs: Object.fromEntries(
      config.sinkMs.map((ms, i) => [
        `job${i + 1}`,
        async ({ total }: { total: number }) => {
          await sink(ms, total);
        },
      ]),
    ),
  });

  const variants: Record<JobVariant, () => Promise<void>> = {
    slowestAlone: async () => {
      await sink(slowest, stage(decodeAll()));
    },
    driverless: async () => {
      const response = (await driverless(event, context)) as BatchResponse<never>;
      if (response.batchItemFailures.length > 0) throw new Error('driverless: a job failed');
    },
    sequential: async () => {
      const total = stage(decodeAll());
      for (const ms of config.sinkMs) await sink(ms, total);
    },
    recompute: async () => {
      const values = decodeAll();
      await Promise.all(config.sinkMs.map((ms) => sink(ms, stage(values))));
    },
  };

  const batchMs = Object.fromEntries(JOB_VARIANTS.map((v) => [v, [] as number[]])) as Record<
    JobVariant,
    number[]
  >;
  const stageEvaluations = Object.fromEntries(JOB_VARIANTS.map((v) => [v, 0])) as Record<
    JobVariant,
    number
  >;
  const total = config.warmupRuns + config.runs;
  for (let run = 0; run < total; run++) {
    const measuring = run >= config.warmupRuns;
    progress(
      `jobs: ${measuring ? `run ${run - config.warmupRuns + 1}/${config.runs}` : 'warm-up'}`,
    );
    for (let i = 0; i < JOB_VARIANTS.length; i++) {
      const variant = JOB_VARIANTS[(run + i) % JOB_VARIANTS.length] as JobVariant;
      evaluations = 0;
      const started = performance.now();
      await variants[variant]();
      const ms = performance.now() - started;
      stageEvaluations[variant] = evaluations;
      if (measuring) batchMs[variant].push(ms);
    }
  }
  const { progress: _, ...rest } = config;
  return { config: rest, batchMs, stageEvaluations };
}

export function jobsOutput(result: JobsBenchmarkResult): ScenarioOutput {
  const m = machine();
  const { batchMs, stageEvaluations } = result;
  const ratio = (v: JobVariant) => pairedRatio(batchMs[v], batchMs.slowestAlone);
  const med = (v: JobVariant) => spread(batchMs[v]).median;
  const driverlessRatio = ratio('driverless');
  return {
    summary: {
      slowestJobMs: round(med('slowestAlone')),
      driverlessBatchMs: round(med('driverless')),
      sequentialBatchMs: round(med('sequential')),
      recomputeBatchMs: round(med('recompute')),
      stageEvaluations: stageEvaluations.driverless,
    },
    detail: {
      description:
        'three jobs with 100/200/300 ms sinks reading one CPU-bound stage: batch wall time and stage evaluations',
      machine: { ...m },
      config: { ...result.config },
      batchMs: Object.fromEntries(JOB_VARIANTS.map((v) => [v, spreadJson(batchMs[v])])),
      stageEvaluations: { ...stageEvaluations },
      ratioToSlowestJob: Object.fromEntries(
        JOB_VARIANTS.map((v) => [
          v,
          spreadJson(
            batchMs[v].map((ms, i) => ms / (batchMs.slowestAlone[i] as number)),
            3,
          ),
        ]),
      ),
    },
    table: {
      headers: ['variant', 'batch ms median (min–max)', '× slowest job', 'stage evaluations'],
      rows: JOB_VARIANTS.map((v) => [
        LABELS[v],
        cell(batchMs[v]),
        ratio(v).median.toFixed(2),
        String(stageEvaluations[v]),
      ]),
    },
    notes: [
      `goal ≤ 1.1× slowest job: ${driverlessRatio.median.toFixed(2)}× (${driverlessRatio.min.toFixed(2)}–${driverlessRatio.max.toFixed(2)}) ${driverlessRatio.median <= 1.1 ? 'met' : 'MISSED'}`,
      `goal exactly 1 stage evaluation: ${stageEvaluations.driverless} ${stageEvaluations.driverless === 1 ? 'met' : 'MISSED'}`,
    ],
    charts: {
      'jobs.svg': spreadChart(
        'Jobs per batch: batch wall time',
        `3 jobs, sinks ${result.config.sinkMs.join('/')} ms, one ${result.config.stageMs} ms stage, ${result.config.records} records`,
        'ms per batch (lower is better)',
        JOB_VARIANTS.map((v) => ({
          label: LABELS[v],
          values: batchMs[v],
          color: v === 'driverless' ? '#2e7d32' : v === 'slowestAlone' ? '#9e9e9e' : '#f0a04b',
          note: `${ratio(v).median.toFixed(2)}× · ${stageEvaluations[v]} stage eval.`,
        })),
        m,
      ),
    },
  };
}

export const jobsScenario: Scenario = {
  name: 'jobs',
  description: 'three jobs (100/200/300 ms sinks) on one source: batch time and stage evaluations',
  async run(options) {
    const base = options.quick ? JOBS_QUICK : JOBS_FULL;
    const result = await runJobsBenchmark({
      ...base,
      ...(options.runs === undefined ? {} : { runs: options.runs }),
      ...(options.warmupRuns === undefined ? {} : { warmupRuns: options.warmupRuns }),
      progress: options.progress,
    });
    return jobsOutput(result);
  },
};
