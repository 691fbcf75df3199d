// The dev loop (`driverless dev`): how long a developer waits. Cold: the session starts (synth
// as the cdk CLI runs it, servers, provisioning, function processes, pollers) until the first
// record put is processed, for the example app and for a generated 10-source app. Change: a
// handler edit in watch mode until a record is processed by the new version, beside a full
// restart (stop, then a cold start) that would ship the same edit.
// Sessions run in this process through runDev (the synth and the servers are child processes as
// in the CLI); the CLI's own module loading, about a second, is not in these numbers.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { runDev, type UpdateTimings } from '../../cli/dev/run-dev';
import { type EmbeddedStack, kinesisClient } from '../../emulator/index';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { spread } from '../stats';
import {
  cell,
  checkIntegers,
  loadNote,
  removeScratch,
  round,
  scratchDir,
  spreadJson,
} from './report';
import { appSource } from './synth';

const ROOT = join(__dirname, '..', '..');

export interface DevLoopConfig {
  /** Sources of the generated app. @default 10 */
  readonly sources: number;
  /** @default 3 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const DEV_LOOP_FULL: DevLoopConfig = { sources: 10, runs: 3 };
export const DEV_LOOP_QUICK: DevLoopConfig = { sources: 10, runs: 1 };

/**
 * Where a watch-mode change spends its time, ms, in order; they add up to `changeMs`. Load-bound:
 * build, write, warm, invoke (CPU work); timer-bound: debounce and most of poll (a fixed debounce,
 * the mapping's idle poll interval and the producer's put interval).
 */
export interface ChangePhases {
  /** The file saved → the watcher saw it. */
  readonly watchMs: number;
  /** Seen → the update started (the debounce). */
  readonly debounceMs: number;
  /** esbuild. */
  readonly buildMs: number;
  /** Writing the new code directory. */
  readonly writeMs: number;
  /** Starting the new version's environment before the alias moved. */
  readonly warmMs: number;
  /** The rest of the update (bookkeeping between the steps). */
  readonly otherMs: number;
  /** The alias moved → the mapping invoked a batch on the new version (next poll, next put). */
  readonly pollMs: number;
  /** That invocation, until its result (a cold start when nothing was warmed). */
  readonly invokeMs: number;
}

const PHASES: readonly (keyof ChangePhases)[] = [
  'watchMs',
  'debounceMs',
  'buildMs',
  'writeMs',
  'warmMs',
  'otherMs',
  'pollMs',
  'invokeMs',
];

export interface DevLoopRun {
  /** Session start → first record processed, example app, ms. */
  readonly coldExampleMs: number;
  /** Handler saved → first record processed by the new version, watch mode, ms. */
  readonly changeMs: number;
  /** Where `changeMs` went. */
  readonly changePhases: ChangePhases;
  /** Stop requested → first record processed by a new session (the edit shipped by restart), ms. */
  readonly restartMs: number;
  /** Session start → first record processed, generated app, ms. */
  readonly coldSourcesMs: number;
}

export interface DevLoopResult {
  readonly config: Omit<DevLoopConfig, 'progress'>;
  readonly runs: DevLoopRun[];
}

/** Goals of the dev loop on this machine, ms. */
const GOALS = { coldExampleMs: 10_000, coldSourcesMs: 20_000, changeMs: 2_000 };

/** A batch processed: when its invocation started and when its result came. */
interface Processed {
  readonly invokedAt: number;
  readonly at: number;
}

/** A running session, started by {@link startSession}. */
interface Session {
  readonly stack: EmbeddedStack;
  /** Resolves once a record is processed by `version` of any function (`undefined`: any version). */
  processed(version?: string): Promise<Processed>;
  /** Resolves with the timings of the next watch-mode update. */
  updated(): Promise<UpdateTimings>;
  stop(): Promise<void>;
}

/** Starts `driverless dev` on `projectDir` and puts one record on every stream once it runs. */
async function startSession(projectDir: string, watch: boolean): Promise<Session> {
  const waiters: { version: string | undefined; resolve: (processed: Processed) => void }[] = [];
  const updateWaiters: ((timings: UpdateTimings) => void)[] = [];
  /** The last batch invoked on each shard of each mapping: its result is the next batchResult. */
  const invokedAt = new Map<string, number>();
  let stopSession: () => void = () => undefined;
  let errors = '';
  let started: (stack: EmbeddedStack) => void = () => undefined;
  const running = new Promise<EmbeddedStack>((resolve) => {
    started = resolve;
  });
  const finished = runDev(
    {
      projectDir,
      watch,
      interactive: false,
      onStarted: (session) => {
        stopSession = session.stop;
        started(session.stack);
      },
      onUpdate: ({ timings }) => {
        for (const resolve of updateWaiters.splice(0)) resolve(timings);
      },
      onMappingEvent: (mapping, event) => {
        const shard = `${mapping.uuid}/${'shardId' in event ? event.shardId : ''}`;
        if (event.type === 'batchInvoked') invokedAt.set(shard, Date.now());
        if (event.type !== 'batchResult' || event.outcome !== 'ok' || event.records === 0) return;
        const at = Date.now();
        for (const waiter of [...waiters]) {
          if (waiter.version === undefined || waiter.version === event.executedVersion) {
            waiters.splice(waiters.indexOf(waiter), 1);
            waiter.resolve({ invokedAt: invokedAt.get(shard) ?? at, at });
          }
        }
      },
    },
    {
      stdout: () => undefined,
      stderr: (text) => {
        errors += text;
      },
    },
  );
  const stack = await Promise.race([
    running,
    finished.then((code) => {
      throw new Error(`dev session ended (exit ${code}) before it ran: ${errors.trim()}`);
    }),
  ]);
  return {
    stack,
    processed: (version) => new Promise((resolve) => waiters.push({ version, resolve })),
    updated: () => new Promise((resolve) => updateWaiters.push(resolve)),
    async stop() {
      stopSession();
      await finished;
    },
  };
}

/**
 * Puts one small record on every stream of the app, every `everyMs` until `until` settles. Users
 * and products change from put to put, as the demo producer's do: under one key, the example's
 * join would read every record put so far on each batch.
 */
async function putUntil(stack: EmbeddedStack, until: Promise<unknown>, everyMs: number) {
  const kinesis = kinesisClient(stack.endpoints.kinesis);
  let done = false;
  let puts = 0;
  void until.finally(() => {
    done = true;
  });
  while (!done) {
    const userId = `user-${String(puts % 2_000).padStart(5, '0')}`;
    const productId = `product-${String(puts % 500).padStart(4, '0')}`;
    puts++;
    await Promise.all(
      stack.app.streams.map((stream) =>
        kinesis.send(
          new PutRecordsCommand({
            StreamName: stream.name,
            Records: [
              {
                PartitionKey: 'bench',
                Data: Buffer.from(
                  JSON.stringify({
                    userId,
                    productId,
                    orderId: `order-${Date.now()}-${puts}`,
                    items: [{ productId, quantity: 1 }],
                    ts: Date.now(),
                  }),
                ),
              },
            ],
          }),
        ),
      ),
    );
    await Promise.race([until, new Promise((r) => setTimeout(r, everyMs))]);
  }
}

/**
 * A copy of the example app in scratch: the same stack (RetailStack), with its handlers copied so
 * an edit never touches the repository's sources. Inside the repo, so `driverless` resolves.
 */
function exampleCopy(dir: string): { dir: string; handler: string } {
  mkdirSync(dir, { recursive: true });
  cpSync(join(ROOT, 'functions', 'example'), join(dir, 'functions'), { recursive: true });
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
  writeFileSync(
    join(dir, 'cdk.json'),
    JSON.stringify({
      app: 'tsx app.ts',
      context: cdkJson.context,
      watch: { include: ['functions/**'] },
    }),
  );
  writeFileSync(
    join(dir, 'app.ts'),
    `import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { RetailStack } from ${JSON.stringify(join(ROOT, 'example', 'retail-stack'))};

const app = new App();
new RetailStack(app, 'DriverlessRetail', {
  productViewsEntry: join(__dirname, 'functions', 'product-views.ts'),
  ordersEntry: join(__dirname, 'functions', 'orders.ts'),
});
`,
  );
  return { dir, handler: join(dir, 'functions', 'orders.ts') };
}

function generatedApp(dir: string, sources: number): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'app.ts'), appSource(sources, 20));
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8'));
  writeFileSync(
    join(dir, 'cdk.json'),
    JSON.stringify({ app: 'tsx app.ts', context: cdkJson.context }),
  );
  return dir;
}

export async function runDevLoopBenchmark(config: DevLoopConfig): Promise<DevLoopResult> {
  checkIntegers(config, ['sources', 'runs'], 1);
  const progress = config.progress ?? (() => undefined);
  const runs: DevLoopRun[] = [];
  try {
    for (let run = 0; run < config.runs; run++) {
      const example = exampleCopy(scratchDir(`dev-loop-example-${run}`));
      progress(`dev-loop: run ${run + 1}/${config.runs}: cold start, example app`);
      let startedAt = Date.now();
      const first = await startSession(example.dir, true);
      let processed = first.processed();
      await putUntil(first.stack, processed, 200);
      const coldExampleMs = (await processed).at - startedAt;

      progress(`dev-loop: run ${run + 1}/${config.runs}: handler edit in watch mode`);
      const savedAt = Date.now();
      const onNewCode = first.processed('2');
      const updated = first.updated();
      await appendFile(example.handler, `\nexport const devLoopRevision = ${savedAt};\n`);
      await putUntil(first.stack, onNewCode, 100);
      const newCode = await onNewCode;
      const changeMs = newCode.at - savedAt;
      const changePhases = phasesOf(savedAt, await updated, newCode);

      progress(`dev-loop: run ${run + 1}/${config.runs}: the same edit by a full restart`);
      const stopAt = Date.now();
      await first.stop();
      const second = await startSession(example.dir, false);
      processed = second.processed();
      await putUntil(second.stack, processed, 200);
      const restartMs = (await processed).at - stopAt;
      await second.stop();

      progress(`dev-loop: run ${run + 1}/${config.runs}: cold start, ${config.sources}-source app`);
      const generated = generatedApp(scratchDir(`dev-loop-sources-${run}`), config.sources);
      startedAt = Date.now();
      const third = await startSession(generated, false);
      processed = third.processed();
      await putUntil(third.stack, processed, 200);
      const coldSourcesMs = (await processed).at - startedAt;
      await third.stop();
      runs.push({ coldExampleMs, changeMs, changePhases, restartMs, coldSourcesMs });
    }
  } finally {
    removeScratch();
  }
  return { config: (({ progress: _, ...rest }) => rest)(config), runs };
}

function phasesOf(savedAt: number, update: UpdateTimings, newCode: Processed): ChangePhases {
  const { changedAt, startedAt, buildMs, writeMs, warmMs, publishedAt } = update;
  return {
    watchMs: changedAt - savedAt,
    debounceMs: startedAt - changedAt,
    buildMs: Math.round(buildMs),
    writeMs: Math.round(writeMs),
    warmMs,
    otherMs: publishedAt - startedAt - Math.round(buildMs) - Math.round(writeMs) - warmMs,
    pollMs: newCode.invokedAt - publishedAt,
    invokeMs: newCode.at - newCode.invokedAt,
  };
}

export function devLoopOutput(result: DevLoopResult): ScenarioOutput {
  const m = machine();
  const of = (key: Exclude<keyof DevLoopRun, 'changePhases'>) => result.runs.map((run) => run[key]);
  const phase = (key: keyof ChangePhases) => result.runs.map((run) => run.changePhases[key]);
  const median = (key: Exclude<keyof DevLoopRun, 'changePhases'>) => spread(of(key)).median;
  const goal = (label: string, key: keyof typeof GOALS) =>
    `goal ${label} ≤ ${GOALS[key] / 1000} s: ${(median(key) / 1000).toFixed(1)} s ${median(key) <= GOALS[key] ? 'met' : 'MISSED'}`;
  return {
    summary: {
      coldExampleMs: round(median('coldExampleMs'), 0),
      coldSourcesMs: round(median('coldSourcesMs'), 0),
      changeMs: round(median('changeMs'), 0),
      restartMs: round(median('restartMs'), 0),
    },
    detail: {
      description:
        'driverless dev: start → first record processed (example app, generated app); handler edit → first record on the new version in watch mode, beside stop + restart',
      machine: { ...m },
      config: { ...result.config },
      coldExampleMs: spreadJson(of('coldExampleMs'), 0),
      coldSourcesMs: spreadJson(of('coldSourcesMs'), 0),
      changeMs: spreadJson(of('changeMs'), 0),
      restartMs: spreadJson(of('restartMs'), 0),
      changePhases: Object.fromEntries(PHASES.map((key) => [key, spreadJson(phase(key), 0)])),
    },
    table: {
      headers: ['measure', 'median (min–max), ms'],
      rows: [
        ['cold start → first record, example app', cell(of('coldExampleMs'))],
        [
          `cold start → first record, ${result.config.sources}-source app`,
          cell(of('coldSourcesMs')),
        ],
        ['handler edit → first record on new code, watch mode', cell(of('changeMs'))],
        ...PHASES.map((key) => [`  ${PHASE_LABELS[key]}`, cell(phase(key))]),
        ['handler edit → first record, stop + restart', cell(of('restartMs'))],
      ],
    },
    notes: [
      goal('cold start, example app', 'coldExampleMs'),
      goal(`cold start, ${result.config.sources}-source app`, 'coldSourcesMs'),
      goal('edit → new code processing, watch mode', 'changeMs'),
      `watch mode is ${(median('restartMs') / Math.max(1, median('changeMs'))).toFixed(1)}× faster than a restart`,
      loadNote(m.loadAverage, m.cores),
    ],
    charts: {},
  };
}

const PHASE_LABELS: Record<keyof ChangePhases, string> = {
  watchMs: 'saved → seen by the watcher',
  debounceMs: 'debounce',
  buildMs: 'esbuild',
  writeMs: 'writing the new code',
  warmMs: "new version's environment started",
  otherMs: 'rest of the update',
  pollMs: 'alias moved → batch invoked on it',
  invokeMs: 'that invocation',
};

export const devLoopScenario: Scenario = {
  name: 'dev-loop',
  description:
    'driverless dev: cold start to first record, and a code change in watch mode vs a restart',
  async run(options) {
    const base = options.quick ? DEV_LOOP_QUICK : DEV_LOOP_FULL;
    return devLoopOutput(
      await runDevLoopBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        progress: options.progress,
      }),
    );
  },
};
