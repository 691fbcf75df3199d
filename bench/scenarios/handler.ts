// Handler throughput: the same Kinesis batch through six handlers that do the same work
// (decode each record, count views per product), in one process, interleaved run by run.
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  BatchProcessor,
  EventType,
  type ParsedRecord,
  processPartialResponse,
} from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { Base64Encoded } from '@aws-lambda-powertools/parser/helpers';
import {
  KinesisDataStreamRecord,
  KinesisDataStreamRecordPayload,
} from '@aws-lambda-powertools/parser/schemas/kinesis';
import type { Context, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import {
  type BatchResponse,
  json,
  type KinesisEvent,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import { z } from 'zod';
import { seededRandom as random } from '../../cli/seeded-random';
import { kinesisEvent, lambdaContext } from '../../test/fixtures/kinesis-events';
import { barChart } from '../bar-chart';
import { describeMachine, type Machine, machine } from '../machine';
import type { JsonValue, Scenario, ScenarioOutput } from '../scenario';
import {
  type Flatness,
  flatness,
  pairedFlatness,
  pairedRatio,
  type Spread,
  spread,
} from '../stats';

/** The six handlers, in table order. */
export const VARIANTS = [
  'handLoop',
  'powertools',
  'driverless',
  'handLoopZod',
  'powertoolsParser',
  'driverlessZod',
] as const;
export type VariantName = (typeof VARIANTS)[number];

const LABELS: Record<VariantName, string> = {
  handLoop: 'hand loop',
  powertools: 'Powertools BatchProcessor',
  driverless: 'microBatch',
  handLoopZod: 'hand loop + zod',
  powertoolsParser: 'Powertools + parser (zod)',
  driverlessZod: 'microBatch + json(schema)',
};

const COLORS: Record<VariantName, string> = {
  handLoop: '#9e9e9e',
  powertools: '#f0a04b',
  driverless: '#2e7d32',
  handLoopZod: '#bdbdbd',
  powertoolsParser: '#f6c48f',
  driverlessZod: '#66bb6a',
};

/** A product view, as the example app's producers write it. */
export const ProductView = z.object({
  userId: z.string().regex(/^u-\d{6}$/),
  productId: z.string().regex(/^p-\d{5}$/),
  ts: z.number().int().positive(),
  page: z.string().startsWith('https://'),
  session: z.string().length(16),
  device: z.enum(['mobile', 'desktop', 'tablet']),
  country: z.string().length(2),
  dwellMs: z.number().int().nonnegative(),
});
export type ProductView = z.infer<typeof ProductView>;

/** Sizes and repetitions; `quick` ones are for the smoke test. */
export interface HandlerBenchmarkConfig {
  /** Records in the batch. @default 10000 */
  readonly records: number;
  /** Interleaved runs before measuring (JIT warm-up). @default 5 */
  readonly warmupRuns: number;
  /** Measured runs; every variant is measured once per run. @default 25 */
  readonly runs: number;
  /**
   * Least duration of one sample: each variant repeats the batch until it has run this long (at
   * least once, at most 50 times), lifting fast variants above timer and scheduling noise without
   * making slow ones dominate the run time. Every sample then spans about the same time, so what a
   * sample pays once (the forced GC's sweeping, refilled caches) weighs the same in every variant
   * under any load; a count fixed from a warm-up run gave a slowed variant one invocation to carry
   * it while faster ones spread it over two or more. 0 means one invocation per sample.
   * @default 150
   */
  readonly sampleMs: number;
  /** Seed of the record generator: the same seed gives the same batch. @default 42 */
  readonly seed: number;
  /**
   * A full GC before each sample, so no variant pays for another's garbage, followed by one
   * untimed invocation that absorbs what the collection leaves to do. @default true
   */
  readonly gcBetweenSamples: boolean;
  readonly progress?: (message: string) => void;
}

export const FULL: HandlerBenchmarkConfig = {
  records: 10_000,
  warmupRuns: 5,
  runs: 25,
  sampleMs: 150,
  seed: 42,
  gcBetweenSamples: true,
};
export const QUICK: HandlerBenchmarkConfig = {
  records: 200,
  warmupRuns: 1,
  runs: 2,
  sampleMs: 0,
  seed: 42,
  gcBetweenSamples: false,
};

/** What {@link runHandlerBenchmark} measured. */
export interface HandlerBenchmarkResult {
  readonly config: Omit<HandlerBenchmarkConfig, 'progress'>;
  readonly averageRecordBytes: number;
  readonly distinctProducts: number;
  /** Median invocations per measured sample of each variant (as many as fill `sampleMs`). */
  readonly invocationsPerSample: Record<VariantName, number>;
  /** Records/s (wall clock) of every sample, per variant, in run order. */
  readonly samples: Record<VariantName, number[]>;
  readonly recordsPerSecond: Record<VariantName, Spread>;
  /** Paired ratios (run by run, then median/min/max) of records/s. */
  readonly ratios: Record<RatioName, Spread>;
  /**
   * Records per second of this process's CPU time (user + system), per sample. On a shared machine
   * time spent descheduled inflates wall-clock samples; CPU time leaves it out.
   */
  readonly cpuSamples: Record<VariantName, number[]>;
  readonly recordsPerCpuSecond: Record<VariantName, Spread>;
  readonly cpuRatios: Record<RatioName, Spread>;
  /** Samples whose per-product counts were checked against the generator's (all of them). */
  readonly countsChecked: number;
  /** First runs against last runs of each variant, records/s (wall clock); needs 2 runs or more. */
  readonly flatness?: Record<VariantName, Flatness>;
  /** First runs against last runs of each variant, records per CPU second; needs 2 runs or more. */
  readonly cpuFlatness?: Record<VariantName, Flatness>;
  /**
   * MiB the process still holds (JS heap + external memory, after a full GC when
   * `gcBetweenSamples`) at the end of each measured run: it stays level unless a variant leaves
   * something behind, which would slow every later sample of every variant.
   */
  readonly retainedMiB: number[];
}

/** The most invocations one sample runs, however fast a variant is. */
const MAX_INVOCATIONS = 50;

/** The most the last runs of a variant may differ from its first ones for the benchmark to count as flat. */
export const FLATNESS_TOLERANCE = 0.1;
/** Runs at each end of the series that {@link flatness} compares. */
export const FLATNESS_WINDOW = 5;

const RATIOS = {
  driverlessVsHandLoop: ['driverless', 'handLoop'],
  driverlessVsPowertools: ['driverless', 'powertools'],
  driverlessZodVsHandLoopZod: ['driverlessZod', 'handLoopZod'],
  driverlessZodVsPowertoolsParser: ['driverlessZod', 'powertoolsParser'],
  powertoolsVsHandLoop: ['powertools', 'handLoop'],
  powertoolsParserVsHandLoopZod: ['powertoolsParser', 'handLoopZod'],
} as const satisfies Record<string, readonly [VariantName, VariantName]>;
export type RatioName = keyof typeof RATIOS;

/** The goals of the runtime issue: microBatch against the hand loop and Powertools. */
export const GOALS: readonly { readonly ratio: RatioName; readonly atLeast: number }[] = [
  { ratio: 'driverlessVsHandLoop', atLeast: 1.0 },
  { ratio: 'driverlessVsPowertools', atLeast: 1.8 },
  { ratio: 'driverlessZodVsHandLoopZod', atLeast: 0.95 },
];

// --- The batch -------------------------------------------------------------------------------

function pick<T>(next: () => number, weighted: readonly (readonly [T, number])[]): T {
  let roll = next() * weighted.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [value, weight] of weighted) {
    roll -= weight;
    if (roll < 0) return value;
  }
  return weighted[weighted.length - 1]![0];
}

/**
 * Product views with realistic skew: a power law over 50,000 users (a few heavy users) and over
 * 2,000 products (a few best sellers), so the per-product Map sees hot and cold keys.
 */
export function productViews(count: number, seed: number): ProductView[] {
  const next = random(seed);
  const start = 1_763_900_000_000;
  const views: ProductView[] = [];
  for (let i = 0; i < count; i++) {
    const user = Math.floor(50_000 * next() ** 4);
    const product = `p-${String(Math.floor(2_000 * next() ** 3)).padStart(5, '0')}`;
    const ref = pick(next, [
      ['home', 4],
      ['search', 5],
      ['email', 1],
      ['ad', 2],
      ['related', 3],
    ]);
    views.push({
      userId: `u-${String(user).padStart(6, '0')}`,
      productId: product,
      ts: start + i * 7 + Math.floor(next() * 5),
      page: `https://shop.example.com/products/${product}?ref=${ref}`,
      session: Math.floor(next() * 2 ** 52)
        .toString(16)
        .padStart(16, '0')
        .slice(-16),
      device: pick(next, [
        ['mobile', 6],
        ['desktop', 3],
        ['tablet', 1],
      ] as const),
      country: pick(next, [
        ['US', 8],
        ['DE', 3],
        ['GB', 3],
        ['FR', 2],
        ['JP', 2],
        ['BR', 1],
        ['IN', 2],
        ['CA', 1],
      ]),
      dwellMs: Math.floor(200 + 60_000 * next() ** 2),
    });
  }
  return views;
}

function addView(counts: Map<string, number>, productId: string): void {
  counts.set(productId, (counts.get(productId) ?? 0) + 1);
}

/** Fails loudly if a variant's per-product counts differ from the generator's. */
export function checkCounts(
  variant: string,
  expected: ReadonlyMap<string, number>,
  actual: ReadonlyMap<string, number> | undefined,
): void {
  if (actual === undefined) throw new Error(`${variant}: counted nothing (its job never ran?)`);
  for (const [product, count] of expected) {
    if (actual.get(product) !== count) {
      throw new Error(
        `${variant}: counted ${actual.get(product) ?? 0} views of ${product}, expected ${count}`,
      );
    }
  }
  if (actual.size !== expected.size) {
    throw new Error(`${variant}: counted ${actual.size} products, expected ${expected.size}`);
  }
}

// --- The six handlers ------------------------------------------------------------------------

interface Variant {
  readonly name: VariantName;
  readonly invoke: (event: KinesisEvent, context: Context) => Promise<BatchResponse<never>>;
  /** The counts of the last invocation, read outside the timed region. */
  readonly counts: () => Map<string, number> | undefined;
}

function decodeData(data: string): unknown {
  return JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
}

function handLoop(name: VariantName, validate: (value: unknown) => ProductView): Variant {
  let last: Map<string, number> | undefined;
  return {
    name,
    async invoke(event) {
      const counts = new Map<string, number>();
      for (const record of event.Records) {
        addView(counts, validate(decodeData(record.kinesis.data)).productId);
      }
      last = counts;
      return { batchItemFailures: [] };
    },
    counts: () => last,
  };
}

function driverless(name: VariantName, withSchema: boolean): Variant {
  let last: Map<string, number> | undefined;
  const decode = withSchema ? json(ProductView) : json<ProductView>();
  const handler = microBatch({
    decode,
    stages: {
      counts: (records) => {
        const counts = new Map<string, number>();
        for (const record of records) addView(counts, record.data.productId);
        return counts;
      },
    },
    jobs: {
      count: ({ counts }) => {
        last = counts;
      },
    },
    deadLetters: memoryDeadLetters(),
  });
  return { name, invoke: (event, context) => handler(event, context), counts: () => last };
}

// Powertools' record handlers are called per record (concurrently, via Promise.all), so they
// count into the current invocation's Map.
function powertools(name: VariantName): Variant {
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  let counts = new Map<string, number>();
  let last: Map<string, number> | undefined;
  const recordHandler = async (record: KinesisStreamRecord): Promise<void> => {
    addView(counts, (decodeData(record.kinesis.data) as ProductView).productId);
  };
  return {
    name,
    async invoke(event, context) {
      counts = new Map();
      const response = await processPartialResponse(
        event as unknown as KinesisStreamEvent,
        recordHandler,
        processor,
        { context },
      );
      last = counts;
      return response;
    },
    counts: () => last,
  };
}

// The parser integration with a complete record schema built once (the `schema` option), the
// fastest documented form; `innerSchema` would rebuild the extended schema for every record.
function powertoolsParser(name: VariantName): Variant {
  const schema = KinesisDataStreamRecord.extend({
    kinesis: KinesisDataStreamRecordPayload.extend({ data: Base64Encoded(ProductView) }),
  });
  const processor = new BatchProcessor(EventType.KinesisDataStreams, { parser, schema });
  let counts = new Map<string, number>();
  let last: Map<string, number> | undefined;
  const recordHandler = async (
    record: ParsedRecord<KinesisStreamRecord, ProductView>,
  ): Promise<void> => {
    addView(counts, record.kinesis.data.productId);
  };
  return {
    name,
    async invoke(event, context) {
      counts = new Map();
      const response = await processPartialResponse(
        event as unknown as KinesisStreamEvent,
        recordHandler,
        processor,
        { context },
      );
      last = counts;
      return response;
    },
    counts: () => last,
  };
}

function createVariants(): Variant[] {
  return [
    handLoop('handLoop', (value) => value as ProductView),
    powertools('powertools'),
    driverless('driverless', false),
    handLoop('handLoopZod', (value) => ProductView.parse(value)),
    powertoolsParser('powertoolsParser'),
    driverless('driverlessZod', true),
  ];
}

// --- Measuring -------------------------------------------------------------------------------

/**
 * A full GC before each sample, so no variant pays for the garbage the previous one left.
 * `--expose-gc` cannot be passed through `tsx` from package.json, so it is switched on here.
 */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') {
    throw new Error('gcBetweenSamples needs a gc() function, and --expose-gc did not provide one');
  }
  return gc as () => void;
}

/**
 * Lets the event loop turn once. Lambda runs every invocation in its own turn; a benchmark that
 * only awaits promises never leaves the microtask queue, so `process.nextTick` callbacks queued by
 * an invocation (zlib queues one that closes its handle, even for the synchronous `gunzipSync`,
 * which the Powertools Kinesis schema calls on every record's data) never run, and everything they
 * hold accumulates for the whole benchmark, slowing every later GC and sample of every variant.
 */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

function retainedMiB(): number {
  const { heapUsed, external } = process.memoryUsage();
  return Math.round(((heapUsed + external) / 2 ** 20) * 10) / 10;
}

/**
 * Runs the benchmark. Log and metric output are switched off (POWERTOOLS_LOG_LEVEL=SILENT,
 * POWERTOOLS_METRICS_DISABLED=true) before the handlers are built: that removes stdout I/O, which
 * only microBatch would pay, and leaves the work of building the report and metrics in.
 */
export async function runHandlerBenchmark(
  config: HandlerBenchmarkConfig,
): Promise<HandlerBenchmarkResult> {
  const progress = config.progress ?? (() => undefined);
  for (const [key, minimum] of [
    ['records', 1],
    ['runs', 1],
    ['warmupRuns', 0],
    ['sampleMs', 0],
  ] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < minimum) {
      throw new RangeError(`${key} must be an integer ≥ ${minimum} (given ${value})`);
    }
  }
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';

  const views = productViews(config.records, config.seed);
  const expected = new Map<string, number>();
  for (const view of views) addView(expected, view.productId);
  const event = kinesisEvent(views.map((data) => ({ data, partitionKey: data.userId })));
  const averageRecordBytes = Math.round(
    views.reduce((sum, view) => sum + Buffer.byteLength(JSON.stringify(view)), 0) / views.length,
  );
  // The deadline is far away: no variant should ever see a timeout here.
  const context = lambdaContext({ remainingMs: 24 * 3_600_000 });
  const variants = createVariants();
  const gc = config.gcBetweenSamples ? collector() : undefined;
  const perVariant = <V>(value: () => V) =>
    Object.fromEntries(VARIANTS.map((name) => [name, value()])) as Record<VariantName, V>;
  const samples = perVariant(() => [] as number[]);
  const cpuSamples = perVariant(() => [] as number[]);
  const invocations = perVariant(() => [] as number[]);
  const retained: number[] = [];
  let countsChecked = 0;

  const total = config.warmupRuns + config.runs;
  for (let run = 0; run < total; run++) {
    const measuring = run >= config.warmupRuns;
    progress(
      measuring
        ? `handler: run ${run - config.warmupRuns + 1}/${config.runs}`
        : `handler: warm-up ${run + 1}/${config.warmupRuns}`,
    );
    // Round-robin with a rotating start, so no variant always runs first (or right after GC-heavy ones).
    for (let i = 0; i < variants.length; i++) {
      const variant = variants[(run + i) % variants.length]!;
      let response: BatchResponse<never> | undefined;
      if (gc) {
        gc();
        // An untimed invocation after the forced collection: the collector still sweeps its pages
        // on other threads and on the first allocations after it, about 14 ms of CPU time per
        // sample here, which would fall on the first timed invocation. A variant that fits one
        // invocation in a sample would carry it whole, and one that fits two would halve it.
        response = await variant.invoke(event, context);
        await nextTurn();
      }
      let repeat = 0;
      const cpuStarted = process.cpuUsage();
      const started = performance.now();
      do {
        response = await variant.invoke(event, context);
        await nextTurn();
        repeat++;
      } while (repeat < MAX_INVOCATIONS && performance.now() - started < config.sampleMs);
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuStarted);
      const cpuSeconds = (cpu.user + cpu.system) / 1e6;
      if (response?.batchItemFailures.length !== 0) {
        throw new Error(
          `${variant.name}: expected no batch item failures, got ${JSON.stringify(response)}`,
        );
      }
      checkCounts(variant.name, expected, variant.counts());
      countsChecked++;
      if (measuring) {
        samples[variant.name].push((config.records * repeat) / seconds);
        cpuSamples[variant.name].push((config.records * repeat) / cpuSeconds);
        invocations[variant.name].push(repeat);
      }
    }
    if (measuring) {
      // A second turn: zlib frees a closed handle's memory a turn after its close callback.
      await nextTurn();
      gc?.();
      retained.push(retainedMiB());
    }
  }

  const spreads = (of: Record<VariantName, number[]>) =>
    Object.fromEntries(VARIANTS.map((name) => [name, spread(of[name])])) as Record<
      VariantName,
      Spread
    >;
  const pairedRatios = (of: Record<VariantName, number[]>) =>
    Object.fromEntries(
      Object.entries(RATIOS).map(([name, [a, b]]) => [name, pairedRatio(of[a], of[b])]),
    ) as Record<RatioName, Spread>;
  const flat = (of: Record<VariantName, number[]>) =>
    Object.fromEntries(
      VARIANTS.map((name) => [name, flatness(of[name], FLATNESS_WINDOW)]),
    ) as Record<VariantName, Flatness>;
  const { progress: _, ...kept } = config;
  return {
    config: kept,
    averageRecordBytes,
    distinctProducts: expected.size,
    invocationsPerSample: Object.fromEntries(
      VARIANTS.map((name) => [name, spread(invocations[name]).median]),
    ) as Record<VariantName, number>,
    samples,
    recordsPerSecond: spreads(samples),
    ratios: pairedRatios(samples),
    cpuSamples,
    recordsPerCpuSecond: spreads(cpuSamples),
    cpuRatios: pairedRatios(cpuSamples),
    countsChecked,
    ...(config.runs < 2 ? {} : { flatness: flat(samples), cpuFlatness: flat(cpuSamples) }),
    retainedMiB: retained,
  };
}

// --- Reporting -------------------------------------------------------------------------------

/** The variant whose last runs moved furthest from its first ones, and whether all stayed within `tolerance`. */
export function worstDrift(
  of: Record<VariantName, Flatness>,
  tolerance = FLATNESS_TOLERANCE,
): { readonly variant: VariantName; readonly change: number; readonly flat: boolean } {
  let worst: VariantName = VARIANTS[0];
  for (const name of VARIANTS) {
    if (Math.abs(of[name].change) > Math.abs(of[worst].change)) worst = name;
  }
  return {
    variant: worst,
    change: of[worst].change,
    flat: Math.abs(of[worst].change) <= tolerance,
  };
}

const percent = (change: number) => `${change >= 0 ? '+' : ''}${(change * 100).toFixed(0)} %`;

function flatnessJson(of: Record<VariantName, Flatness>): JsonValue {
  const round = (value: number) => Math.round(value);
  return {
    ...worstDrift(of),
    tolerance: FLATNESS_TOLERANCE,
    variants: Object.fromEntries(
      VARIANTS.map((name) => [
        name,
        {
          first: round(of[name].first),
          last: round(of[name].last),
          change: Math.round(of[name].change * 1000) / 1000,
          window: of[name].window,
        },
      ]),
    ),
  };
}

function flatnessNote(
  what: string,
  of: Record<VariantName, Flatness> | undefined,
  retained: readonly number[],
): string {
  if (of === undefined) return `${what} flatness: needs at least 2 runs`;
  const worst = worstDrift(of);
  const window = of[worst.variant].window;
  const memory =
    retained.length === 0
      ? ''
      : `; process holds ${retained[0]} MiB after the first run, ${retained[retained.length - 1]} MiB after the last`;
  return `${what} flatness (median of the last ${window} runs vs the first ${window}): ${worst.flat ? 'FLAT' : 'DRIFTS'}, largest change ${percent(worst.change)} (${LABELS[worst.variant]}, tolerance ±${FLATNESS_TOLERANCE * 100} %)${memory}`;
}

function ratioFlatnessJson(result: HandlerBenchmarkResult): JsonValue {
  return Object.fromEntries(
    GOALS.map(({ ratio }) => {
      const [a, b] = RATIOS[ratio];
      const drift = pairedFlatness(result.samples[a], result.samples[b], FLATNESS_WINDOW);
      return [ratio, Math.round(drift.change * 1000) / 1000];
    }),
  );
}

/**
 * The drift of each goal's paired ratio, last runs against first: what the runtime could
 * accumulate over runs, with what the machine does to every variant alike cancelled.
 */
function ratioFlatnessNote(result: HandlerBenchmarkResult): string {
  const parts = GOALS.map(({ ratio }) => {
    const [a, b] = RATIOS[ratio];
    const drift = pairedFlatness(result.samples[a], result.samples[b], FLATNESS_WINDOW);
    return { ratio, change: drift.change };
  });
  const flat = parts.every((part) => Math.abs(part.change) <= FLATNESS_TOLERANCE);
  return `paired-ratio flatness (the machine's drift cancels): ${parts.map((part) => `${part.ratio} ${percent(part.change)}`).join(', ')}: ${flat ? 'FLAT' : 'DRIFTS'} (tolerance ±${FLATNESS_TOLERANCE * 100} %)`;
}

const fixed = (value: number, digits = 2) => value.toFixed(digits);
const perSecond = (value: number) => Math.round(value).toLocaleString('en-US');

function baselineOf(name: VariantName): { baseline: VariantName; ratio?: RatioName } {
  switch (name) {
    case 'powertools':
      return { baseline: 'handLoop', ratio: 'powertoolsVsHandLoop' };
    case 'driverless':
      return { baseline: 'handLoop', ratio: 'driverlessVsHandLoop' };
    case 'powertoolsParser':
      return { baseline: 'handLoopZod', ratio: 'powertoolsParserVsHandLoopZod' };
    case 'driverlessZod':
      return { baseline: 'handLoopZod', ratio: 'driverlessZodVsHandLoopZod' };
    default:
      return { baseline: name };
  }
}

/** Turns a result into the runner's table, notes, JSON and chart. */
export function handlerOutput(
  result: HandlerBenchmarkResult,
  host: Machine = machine(),
): ScenarioOutput {
  const { recordsPerSecond: rps, ratios, cpuRatios } = result;
  const ratioOf = (of: Record<RatioName, Spread>, name: VariantName) => {
    const { ratio } = baselineOf(name);
    return ratio === undefined ? '1.00×' : `${fixed(of[ratio].median)}×`;
  };
  const ratioText = (name: VariantName) => ratioOf(ratios, name);
  const goals = GOALS.map((goal) => ({
    ...goal,
    measured: ratios[goal.ratio].median,
    met: ratios[goal.ratio].median >= goal.atLeast,
  }));
  const { config } = result;
  const subtitle = `${config.records.toLocaleString('en-US')} records of ~${result.averageRecordBytes} B JSON per batch · median of ${config.runs} interleaved runs · counting views per product`;
  const summary = Object.fromEntries(
    VARIANTS.map((name) => [name, Math.round(rps[name].median)]),
  ) as Record<VariantName, number>;
  const detail: Record<string, JsonValue> = {
    description: handlerScenario.description,
    machine: { ...host },
    config: { ...config },
    averageRecordBytes: result.averageRecordBytes,
    distinctProducts: result.distinctProducts,
    countsChecked: result.countsChecked,
    loadAverageAfter: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    invocationsPerSample: { ...result.invocationsPerSample },
    recordsPerSecond: Object.fromEntries(
      VARIANTS.map((name) => [
        name,
        {
          label: LABELS[name],
          ...rps[name],
          runs: result.samples[name].map((value) => Math.round(value)),
        },
      ]),
    ),
    ratios: Object.fromEntries(Object.entries(ratios).map(([name, value]) => [name, { ...value }])),
    goals: goals.map((goal) => ({ ...goal })),
    recordsPerCpuSecond: Object.fromEntries(
      VARIANTS.map((name) => [
        name,
        {
          ...result.recordsPerCpuSecond[name],
          runs: result.cpuSamples[name].map((value) => Math.round(value)),
        },
      ]),
    ),
    cpuRatios: Object.fromEntries(
      Object.entries(cpuRatios).map(([name, value]) => [name, { ...value }]),
    ),
    ...(result.flatness === undefined || result.cpuFlatness === undefined
      ? {}
      : { flatness: flatnessJson(result.flatness), cpuFlatness: flatnessJson(result.cpuFlatness) }),
    retainedMiB: [...result.retainedMiB],
    ...(result.config.runs < 2 ? {} : { ratioFlatness: ratioFlatnessJson(result) }),
  };
  const drift = (of: Record<VariantName, Flatness> | undefined, name: VariantName) =>
    of === undefined ? '–' : percent(of[name].change);
  return {
    summary,
    detail,
    table: {
      headers: [
        'variant',
        'median rec/s',
        'min–max rec/s',
        'vs hand loop',
        'rec/CPU-s',
        'vs hand loop (CPU)',
        'last vs first runs',
        '(CPU)',
      ],
      rows: VARIANTS.map((name) => [
        LABELS[name],
        perSecond(rps[name].median),
        `${perSecond(rps[name].min)}–${perSecond(rps[name].max)}`,
        ratioText(name),
        perSecond(result.recordsPerCpuSecond[name].median),
        ratioOf(cpuRatios, name),
        drift(result.flatness, name),
        drift(result.cpuFlatness, name),
      ]),
    },
    notes: [
      `microBatch / Powertools: ${fixed(ratios.driverlessVsPowertools.median)}× · microBatch+schema / Powertools+parser: ${fixed(ratios.driverlessZodVsPowertoolsParser.median)}× (ratios paired per run, median)`,
      ...goals.map(
        (goal) =>
          `goal ${goal.ratio} ≥ ${fixed(goal.atLeast, 1)}×: ${fixed(goal.measured)}× ${goal.met ? 'MET' : 'MISSED'} (min–max ${fixed(ratios[goal.ratio].min)}–${fixed(ratios[goal.ratio].max)}; by CPU time ${fixed(cpuRatios[goal.ratio].median)}×)`,
      ),
      flatnessNote('wall-clock', result.flatness, result.retainedMiB),
      flatnessNote('CPU-time', result.cpuFlatness, []),
      ...(result.config.runs < 2 ? [] : [ratioFlatnessNote(result)]),
      `load average ${host.loadAverage} before, ${detail.loadAverageAfter} after (${host.cores} cores): above the core count, wall-clock figures include time spent descheduled`,
      `counts checked on all ${result.countsChecked} samples; ${config.gcBetweenSamples ? 'full GC before each sample' : 'no forced GC'}; Powertools log/metric output silenced for all variants`,
    ],
    charts: {
      'handler.svg': barChart({
        title: 'Handler throughput: one Kinesis batch, same work, six handlers',
        subtitle,
        unit: 'records/s',
        bars: VARIANTS.map((name) => ({
          label: LABELS[name],
          ...rps[name],
          color: COLORS[name],
          note:
            baselineOf(name).ratio === undefined
              ? undefined
              : `${ratioText(name)} ${LABELS[baselineOf(name).baseline]}`,
        })),
        footer: describeMachine(host),
      }),
    },
  };
}

export const handlerScenario: Scenario = {
  name: 'handler',
  description:
    'microBatch vs a hand-written loop vs Powertools BatchProcessor on one 10,000-record Kinesis batch, with and without a zod schema',
  async run(options) {
    const base = options.quick ? QUICK : FULL;
    const host = machine();
    return handlerOutput(
      await runHandlerBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        ...(options.warmupRuns === undefined ? {} : { warmupRuns: options.warmupRuns }),
        progress: options.progress,
      }),
      host,
    );
  },
};
