import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatMs, LatencySample, RateCounter, table } from '../cli/dev/live-view';
import {
  type EsmEvent,
  type EventSourceMappingConfig,
  kinesisClient,
  STATE_FILE,
  startEmbeddedStack,
  synthesize,
  watchLaunchers,
} from '../emulator/index';
import { type ProducedRecord, startRetailProducer } from './producer';

const USAGE = `Runs the example retail pipeline on the embedded local stack (no Docker, no AWS account).

Usage: npm start -- [--records N] [--rate R] [--engine kinesalite|kinesis-local]

  --records N   send N records, wait until each is processed or dead-lettered, print a summary,
                exit 0 only if every record is accounted for
  --rate R      records per second the demo producer sends (default 200)
  --engine E    Kinesis server: kinesalite (fast, default) or kinesis-local (resharding, consumers)
  --timeout S   with --records: give up after S seconds (default 120)`;

/** A bad command line: reported as one line, exit 2, like every usage error of the CLI. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  records: { type: 'string' },
  rate: { type: 'string', default: '200' },
  engine: { type: 'string', default: 'kinesalite' },
  timeout: { type: 'string', default: '120' },
  help: { type: 'boolean', short: 'h' },
} as const;

function readArguments() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    // parseArgs names the unknown option or the missing value; its hint about `--` does not apply.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

function parseOptions() {
  const values = readArguments();
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) {
      throw new UsageError(`--${name} must be a positive whole number (given ${text})`);
    }
    return n;
  };
  if (values.engine !== 'kinesalite' && values.engine !== 'kinesis-local') {
    throw new UsageError(`--engine must be kinesalite or kinesis-local (given ${values.engine})`);
  }
  return {
    records: values.records === undefined ? undefined : positive('records', values.records),
    rate: positive('rate', values.rate),
    engine: values.engine as 'kinesalite' | 'kinesis-local',
    timeoutSeconds: positive('timeout', values.timeout),
  };
}

/** What one mapping (a source's main function, or an isolated job) has done so far. */
interface MappingRow {
  label: string;
  stream: string;
  processed: RateCounter;
  deadLettered: RateCounter;
  batches: number;
  failedBatches: number;
  iteratorAgeMs: number | undefined;
  latency: LatencySample;
  done: Set<string>;
}

async function main(): Promise<void> {
  const options = parseOptions();
  const projectDir = resolve(__dirname, '..');
  const progress = (text: string) => process.stderr.write(`${text}\n`);
  // `npm start` is npm → sh → tsx → this process: npm killed alone must stop everything too.
  // Until the stack runs, exiting is enough: servers and environments follow through their IPC.
  let onLauncherGone = (): void => process.exit(143);
  watchLaunchers(() => onLauncherGone());

  progress('› synthesizing the app (cdk.out)…');
  const assemblyDir = await synthesize(projectDir);

  const rows = new Map<string, MappingRow>();
  const rowsByFunction = new Map<string, MappingRow>();
  const jobStats = new Map<
    string,
    { records: RateCounter; failed: number; durations: LatencySample }
  >();
  const streamNameOf = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);

  progress(`› starting the embedded stack (${options.engine}, dynalite, fauxqs)…`);
  const stack = await startEmbeddedStack({
    assemblyDir,
    kinesisEngine: options.engine,
    stateFile: resolve(projectDir, STATE_FILE),
    onNote: (note) => progress(`  note: ${note}`),
    onMappingEvent: (mapping: EventSourceMappingConfig, event: EsmEvent) => {
      const row = rows.get(mapping.uuid);
      if (!row) return;
      if (event.type === 'batchInvoked') row.iteratorAgeMs = event.iteratorAgeMs;
      if (event.type === 'batchResult') {
        row.batches++;
        if (event.outcome !== 'ok') row.failedBatches++;
      }
      if (event.type === 'recordsCheckpointed' || event.type === 'recordsDiscarded') {
        for (const sequenceNumber of event.sequenceNumbers)
          row.done.add(`${event.shardId}:${sequenceNumber}`);
      }
      if (event.type === 'recordsCheckpointed') {
        row.processed.add(event.count);
        const now = Date.now();
        row.latency.add(event.arrivalTimestampsMs.map((arrival) => now - arrival));
      }
    },
    onLog: (functionName, line) => {
      const batch =
        line.json?.message === 'batch' ? (line.json.batch as BatchLog | undefined) : undefined;
      if (!batch) return;
      const row = rowsByFunction.get(functionName);
      if (batch.deadLetters > 0) row?.deadLettered.add(batch.deadLetters);
      for (const [job, outcome] of Object.entries(batch.jobs)) {
        const key = `${batch.source}.${job}`;
        const stats = jobStats.get(key) ?? {
          records: new RateCounter(),
          failed: 0,
          durations: new LatencySample(),
        };
        stats.records.add(outcome.records);
        stats.failed += outcome.failed;
        stats.durations.add([outcome.durationMs]);
        jobStats.set(key, stats);
      }
    },
  });

  for (const mapping of stack.app.mappings) {
    const fn = stack.app.functions.find((f) => f.name === mapping.functionName);
    const source = fn?.environment.DRIVERLESS_SOURCE ?? mapping.functionName;
    const jobs = fn?.environment.DRIVERLESS_JOBS;
    const label = jobs && !jobs.startsWith('!') ? `${source} [${jobs}]` : source;
    const row: MappingRow = {
      label,
      stream: streamNameOf(mapping.streamArn),
      processed: new RateCounter(),
      deadLettered: new RateCounter(),
      batches: 0,
      failedBatches: 0,
      iteratorAgeMs: undefined,
      latency: new LatencySample(),
      done: new Set(),
    };
    rows.set(mapping.uuid, row);
    rowsByFunction.set(mapping.functionName, row);
  }

  const streams = stack.app.streams;
  const views = streams.find((s) => s.name.includes('view')) ?? streams[0];
  const orders = streams.find((s) => s.name.includes('order')) ?? streams[1] ?? streams[0];
  if (!views || !orders) throw new Error('the app has no streams to produce to');
  const produced: ProducedRecord[] = [];
  const incoming = new Map<string, RateCounter>();
  const producer = startRetailProducer({
    kinesis: kinesisClient(stack.endpoints.kinesis),
    viewsStream: views.name,
    ordersStream: orders.name,
    ratePerSecond: options.rate,
    ...(options.records === undefined ? {} : { limit: options.records }),
    onPut: (records) => {
      produced.push(...records);
      for (const record of records) {
        const counter = incoming.get(record.stream) ?? new RateCounter();
        counter.add(1);
        incoming.set(record.stream, counter);
      }
    },
  });
  progress(
    `› running: Lambda API ${stack.endpoints.lambda}, state in ${STATE_FILE}. Ctrl-C stops.\n`,
  );

  const render = (): string => {
    const mappingTable = table(
      [
        'source / function',
        'in/s',
        'processed/s',
        'dead-lettered',
        'batches',
        'failed',
        'iterator age',
        'p50',
        'p99',
      ],
      [...rows.values()].map((row) => [
        row.label,
        (incoming.get(row.stream)?.perSecond() ?? 0).toFixed(0),
        row.processed.perSecond().toFixed(0),
        row.deadLettered.total,
        row.batches,
        row.failedBatches,
        formatMs(row.iteratorAgeMs),
        formatMs(row.latency.percentile(50)),
        formatMs(row.latency.percentile(99)),
      ]),
    );
    const jobTable = table(
      ['job', 'records/s', 'records', 'failed', 'p50 duration', 'p99 duration'],
      [...jobStats].map(([job, stats]) => [
        job,
        stats.records.perSecond().toFixed(0),
        stats.records.total,
        stats.failed,
        formatMs(stats.durations.percentile(50)),
        formatMs(stats.durations.percentile(99)),
      ]),
    );
    return `${mappingTable}\n\n${jobTable}\n`;
  };

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    producer.stop();
    clearInterval(ticker);
    progress('› stopping…');
    await stack.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  onLauncherGone = () => void shutdown(143);

  const interactive = process.stdout.isTTY && options.records === undefined;
  const ticker = setInterval(() => {
    if (interactive) process.stdout.write(`\x1b[H\x1b[2J${render()}`);
  }, 1000);

  if (options.records === undefined) return;

  // --records N: wait until every mapping has processed (or dead-lettered, or discarded) every
  // record of its stream, then report.
  const sent = await producer.done;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const missing = () =>
    [...rows.values()].map((row) => ({
      row,
      missing: produced.filter(
        (r) => r.stream === row.stream && !row.done.has(`${r.shardId}:${r.sequenceNumber}`),
      ).length,
    }));
  let lastReport = 0;
  while (missing().some((m) => m.missing > 0) && Date.now() < deadline) {
    if (Date.now() - lastReport > 5000) {
      const left = missing().reduce((sum, m) => sum + m.missing, 0);
      progress(`  waiting for ${left} record deliveries…`);
      lastReport = Date.now();
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const poison = produced.filter((r) => r.poison).length;
  const result = missing();
  console.log(render());
  console.log(
    table(
      ['source / function', 'stream', 'records', 'accounted for', 'missing'],
      result.map(({ row, missing }) => {
        const total = produced.filter((r) => r.stream === row.stream).length;
        return [row.label, row.stream, total, total - missing, missing];
      }),
    ),
  );
  const complete = result.every((m) => m.missing === 0);
  console.log(
    `\n${sent} records sent (${poison} deliberately malformed, dead-lettered with their reason); ` +
      (complete ? 'every record accounted for.' : 'SOME RECORDS WERE NOT ACCOUNTED FOR.'),
  );
  await shutdown(complete ? 0 : 1);
}

interface BatchLog {
  source: string;
  deadLetters: number;
  jobs: Record<string, { records: number; failed: number; durationMs: number }>;
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`npm start: ${error.message} (npm start -- --help shows the options)`);
    process.exit(2);
  }
  console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
