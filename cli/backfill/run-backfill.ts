import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { STATE_FILE } from '../../emulator/index';
import { MAX_BACKFILL_BATCH_SIZE } from '../../functions/runtime/backfill/backfill-event';
import { CliError, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, fail, oneLine } from '../cli-error';
import { parseIntegerOption, parseTime } from '../parse-time';
import {
  type BackfillClients,
  clientsFromEnvironment,
  clientsFromStateFile,
} from './backfill-clients';
import { formatBackfillSummary, formatPlan, progressLine, summaryOf } from './backfill-view';
import { findSource } from './find-source';
import { addCounts, orchestrate } from './orchestrate';
import {
  type PlannedSlice,
  parseArchiveUrl,
  planArchiveSlices,
  planStreamSlices,
} from './plan-slices';
import {
  type BackfillSpec,
  emptyCounts,
  ProgressStore,
  type Unit,
  unitsOf,
} from './progress-store';

/** The `driverless backfill` options, as the command line gives them. */
export interface BackfillCommandOptions {
  readonly source: string;
  readonly from?: string;
  readonly to?: string;
  readonly archive?: string;
  readonly version?: string;
  readonly concurrency?: string;
  readonly concurrencyBudget?: string;
  readonly slicesPerShard?: string;
  readonly batchSize?: string;
  readonly retries?: string;
  readonly ignoreCursors?: boolean;
  readonly resume?: boolean;
  readonly restart?: boolean;
  readonly dryRun?: boolean;
  readonly allowDeadLetters?: boolean;
  readonly json?: boolean;
  readonly endpointFile?: string;
}

/** Where the command writes, and how it learns it should stop; injectable for tests. */
export interface BackfillOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly interactive: boolean;
  /** Registers what to call on Ctrl-C; returns the unregister. */
  readonly onInterrupt: (stop: () => void) => () => void;
}

// Reading one shard with more invocations at once than this mostly buys throttling: a shard
// serves 5 GetRecords calls/s, shared with the live mapping.
const AUTO_PARTS_PER_SHARD = 4;
const DEFAULT_CONCURRENCY = 10;

/** Runs `driverless backfill`; resolves to the exit code. */
export async function runBackfillCommand(
  options: BackfillCommandOptions,
  output: BackfillOutput,
): Promise<number> {
  try {
    return await backfill(options, output);
  } catch (error) {
    if (error instanceof CliError) {
      output.stderr(`driverless backfill: ${error.message}\n`);
      return error.exitCode;
    }
    output.stderr(`driverless backfill: ${oneLine(error)}\n`);
    return EXIT_USAGE;
  }
}

interface Checked {
  readonly batchSize: number;
  readonly retries: number;
  readonly concurrency: number | undefined;
  readonly budget: number | undefined;
  readonly partsPerShard: number | undefined;
  readonly qualifier: string;
  readonly range: { fromMs: number; toMs: number } | undefined;
}

/** Every option checked before anything is called, so bad input costs no request. */
function check(options: BackfillCommandOptions, now: number): Checked {
  const stream = options.from !== undefined || options.to !== undefined;
  if (options.resume && options.restart) fail('--resume and --restart exclude each other');
  if (options.resume && (stream || options.archive !== undefined))
    fail('--resume continues the backfill as it was planned: drop --from, --to and --archive');
  if (!options.resume && options.archive === undefined && options.from === undefined)
    fail('give --from <time> (a stream range) or --archive s3://bucket/prefix, or --resume');
  if (options.archive !== undefined) parseArchiveUrl(options.archive);
  if (options.version !== undefined && !/^\d+$/.test(options.version))
    fail(`--version must be a published version number (given ${options.version})`);
  let range: Checked['range'];
  if (options.from !== undefined || options.to !== undefined) {
    const fromMs =
      options.from === undefined ? 0 : parseTime(options.from, '--from', now).getTime();
    const toMs = options.to === undefined ? now : parseTime(options.to, '--to', now).getTime();
    if (fromMs >= toMs)
      fail(
        `--from must be before --to (given ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()})`,
      );
    range = { fromMs, toMs };
  }
  return {
    batchSize: parseIntegerOption(
      options.batchSize ?? '500',
      '--batch-size',
      1,
      MAX_BACKFILL_BATCH_SIZE,
    ),
    retries: parseIntegerOption(options.retries ?? '2', '--retries', 0, 10),
    concurrency:
      options.concurrency === undefined
        ? undefined
        : parseIntegerOption(options.concurrency, '--concurrency', 1, 10_000),
    budget:
      options.concurrencyBudget === undefined
        ? undefined
        : parseIntegerOption(options.concurrencyBudget, '--concurrency-budget', 1, 1_000_000),
    partsPerShard:
      options.slicesPerShard === undefined
        ? undefined
        : parseIntegerOption(options.slicesPerShard, '--slices-per-shard', 1, 1000),
    qualifier: options.version ?? 'live',
    range,
  };
}

function clientsFor(options: BackfillCommandOptions): BackfillClients {
  if (options.endpointFile !== undefined) return clientsFromStateFile(options.endpointFile);
  return existsSync(STATE_FILE) ? clientsFromStateFile(STATE_FILE) : clientsFromEnvironment();
}

async function backfill(options: BackfillCommandOptions, output: BackfillOutput): Promise<number> {
  const now = Date.now();
  const checked = check(options, now);
  const clients = clientsFor(options);
  const source = await findSource(clients.lambda, options.source);
  if (source.functions.length === 0) fail(`source "${options.source}" has no functions`);

  const headroom = checked.budget ?? source.concurrencyHeadroom;
  if (
    checked.concurrency !== undefined &&
    headroom !== undefined &&
    checked.concurrency > headroom
  ) {
    fail(
      `--concurrency must be at most ${headroom}, what the pipeline's concurrencyBudget leaves beside its mappings (given ${checked.concurrency}); ` +
        'raise concurrencyBudget or pass --concurrency-budget',
    );
  }
  if (headroom !== undefined && headroom < 1) {
    fail(
      `the pipeline's concurrencyBudget leaves no concurrency to a backfill (${headroom}): raise concurrencyBudget`,
    );
  }
  const concurrency =
    checked.concurrency ?? Math.min(DEFAULT_CONCURRENCY, headroom ?? DEFAULT_CONCURRENCY);
  const functions = source.functions.map((f) => f.name);

  const store =
    source.checkpointTable === undefined
      ? undefined
      : new ProgressStore(clients.dynamodb, source.checkpointTable, options.source);
  if (store === undefined && !options.dryRun) {
    fail(
      `source "${options.source}" keeps no per-job cursors: deploy the pipeline with checkpoints: true ` +
        '(a backfill keeps its progress beside them, and they keep a resumed slice from applying twice)',
    );
  }
  const existing = store ? await store.manifest() : undefined;

  let spec: BackfillSpec;
  let generation: number;
  let units: Unit[];
  if (options.resume) {
    if (existing?.status !== 'running' || !store)
      fail(`no unfinished backfill of source "${options.source}" to resume`);
    spec = existing.spec;
    generation = existing.generation;
    units = await store.units(generation, spec.slices, spec.functions.length);
  } else {
    if (existing?.status === 'running' && !options.restart && !options.dryRun) {
      fail(
        `an unfinished backfill of source "${options.source}" exists (started ${existing.startedAt}): ` +
          '--resume continues it, --restart abandons it',
      );
    }
    let plan: PlannedSlice[];
    let input: BackfillSpec['input'];
    if (options.archive !== undefined) {
      plan = await planArchiveSlices(
        clients.s3,
        parseArchiveUrl(options.archive),
        {
          fromMs: checked.range?.fromMs,
          toMs: options.to === undefined ? undefined : checked.range?.toMs,
        },
        Math.max(1, Math.floor(concurrency / functions.length)),
      );
      input = { kind: 'archive', url: options.archive };
    } else {
      if (source.streamArn === undefined)
        fail(`source "${options.source}" has no Kinesis mapping to read a stream from`);
      const range = checked.range as { fromMs: number; toMs: number };
      plan = await planStreamSlices(
        clients.kinesis,
        source.streamArn,
        range,
        (shards) =>
          checked.partsPerShard ??
          Math.min(
            AUTO_PARTS_PER_SHARD,
            Math.max(1, Math.floor(concurrency / (shards * functions.length))),
          ),
      );
      input = { kind: 'stream', streamArn: source.streamArn, ...range };
    }
    if (options.dryRun) {
      output.stdout(formatPlan(plan, functions));
      return EXIT_OK;
    }
    if (plan.length === 0)
      fail(`nothing to backfill: ${options.archive ?? 'the range'} holds no objects`);
    spec = {
      source: options.source,
      qualifier: checked.qualifier,
      input,
      batchSize: checked.batchSize,
      ignoreCursors: options.ignoreCursors === true,
      functions,
      slices: plan.length,
    };
    generation = (existing?.generation ?? 0) + 1;
    units = unitsOf(plan, functions.length);
    const ready = store as ProgressStore;
    await ready.putUnits(generation, units);
    await ready.putManifest({
      spec,
      generation,
      status: 'running',
      startedAt: new Date(now).toISOString(),
    });
  }
  if (options.dryRun) {
    output.stdout(
      `resuming generation ${generation}: ${units.filter((u) => u.state !== 'done').length} of ${units.length} slices left\n`,
    );
    return EXIT_OK;
  }
  const ready = store as ProgressStore;
  // The cursors' namespace: one per backfill, so a new backfill reaches every job again.
  const backfillId = `${createHash('sha256').update(options.source).digest('hex').slice(0, 8)}.${generation}`;
  const functionsNow = spec.functions.map((name) => {
    const found = source.functions.find((f) => f.name === name);
    if (!found)
      fail(`function ${name} of the backfill is no longer deployed: --restart plans again`);
    return found;
  });

  let stopping = false;
  const unregister = output.onInterrupt(() => {
    stopping = true;
    output.stderr(
      '\nstopping: waiting for the invocations in flight (Ctrl-C again to leave now)\n',
    );
  });
  const started = performance.now();
  let recordsThisRun = 0;
  let unitsDoneThisRun = 0;
  let lastLine = '';
  const show = (force: boolean) => {
    const line = progressLine(units, recordsThisRun, unitsDoneThisRun, performance.now() - started);
    if (line === lastLine && !force) return;
    lastLine = line;
    output.stderr(output.interactive ? `\r${line}` : `${line}\n`);
  };
  try {
    await orchestrate(units, {
      lambda: clients.lambda,
      functions: functionsNow,
      qualifier: spec.qualifier,
      backfillId,
      batchSize: spec.batchSize,
      ignoreCursors: spec.ignoreCursors,
      concurrency,
      retries: checked.retries,
      save: (unit) => ready.putUnit(generation, unit),
      stopping: () => stopping,
      events: {
        onUnit: (unit, added) => {
          recordsThisRun += added.records;
          if (unit.state === 'done' || unit.state === 'failed') unitsDoneThisRun += 1;
          if (output.interactive || unit.state === 'done' || unit.state === 'failed') show(false);
        },
      },
    });
  } finally {
    unregister();
  }
  if (output.interactive) output.stderr('\n');

  const totals = emptyCounts();
  for (const unit of units) addCounts(totals, unit.counts);
  const left = units.filter((u) => u.state === 'pending' || u.state === 'running').length;
  const failedUnits = units.filter((u) => u.state === 'failed').length;
  if (left === 0)
    await ready.putManifest({
      spec,
      generation,
      status: 'done',
      startedAt: new Date(now).toISOString(),
    });
  const summary = summaryOf(totals, performance.now() - started, recordsThisRun);
  output.stdout(formatBackfillSummary(units, summary));
  if (options.json) {
    output.stdout(
      `${JSON.stringify({ ...summary, slices: units.length, slicesDone: units.length - left - failedUnits, slicesFailed: failedUnits, slicesLeft: left })}\n`,
    );
  }
  if (left > 0) {
    output.stderr(
      `driverless backfill: interrupted with ${left} of ${units.length} slices left: driverless backfill --source ${options.source} --resume continues\n`,
    );
    return EXIT_FAILURE;
  }
  const deadLettersFail = summary.deadLettered > 0 && !options.allowDeadLetters;
  return failedUnits > 0 || summary.failed > 0 || deadLettersFail ? EXIT_FAILURE : EXIT_OK;
}
