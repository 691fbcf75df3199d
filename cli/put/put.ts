import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { EXIT_FAILURE, EXIT_OK, fail } from '../cli-error';
import { parseIntegerOption } from '../parse-time';
import { checkFile, fileSize } from '../run/read-file-batches';
import { formatPutSummary, type PutSummary } from './format-put-summary';
import { PutProgress } from './put-progress';
import { type PutTarget, resolvePutTarget } from './put-target';
import { generatedData, loadGenerator } from './record-generator';
import { fileRecords, generatedRecords, type OutgoingRecord } from './record-source';
import { sendRecords } from './send-records';
import { SettledTracker } from './settled-tracker';

/** Options of `driverless put`, as commander parses them. */
export interface PutOptions {
  readonly stream?: string;
  readonly file?: string;
  readonly generate?: string;
  readonly records?: string;
  readonly rate?: string;
  readonly partitionKey?: string;
  readonly endpoint?: string;
  readonly wait?: boolean;
  readonly timeout: string;
  readonly json?: boolean;
}

/** How often the stack is asked what its mappings settled while `put` waits. */
const POLL_MS = 250;

function parseRate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const rate = Number(value);
  if (!/^\d*\.?\d+(e[+-]?\d+)?$/i.test(value.trim()) || !Number.isFinite(rate) || rate <= 0)
    fail(
      `--rate must be a positive number of records per second, e.g. 200 or 0.5 (given ${value})`,
    );
  return rate;
}

/** Options checked together, before anything is read or sent: one line naming what is wrong. */
function checkOptions(options: PutOptions): {
  limit: number | undefined;
  rate: number | undefined;
  timeoutMs: number;
} {
  if (options.stream === undefined) fail('give --stream <name>: the stream to put records on');
  if ((options.file === undefined) === (options.generate === undefined))
    fail('give either --file <ndjson[.gz]> or --generate <module>');
  const limit =
    options.records === undefined
      ? undefined
      : parseIntegerOption(options.records, '--records', 1, Number.MAX_SAFE_INTEGER);
  const rate = parseRate(options.rate);
  const timeoutMs = parseIntegerOption(options.timeout, '--timeout', 1, 86_400) * 1000;
  if (options.partitionKey !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(options.partitionKey))
    fail(
      `--partition-key must be a field name, a.b for a nested one (given ${options.partitionKey})`,
    );
  return { limit, rate, timeoutMs };
}

/** The records to send: a checked file (its first `limit`), or a generator's. */
async function openRecords(
  options: PutOptions,
  limit: number | undefined,
): Promise<{ records: AsyncIterable<OutgoingRecord>; total: number | undefined }> {
  const rule = options.partitionKey === undefined ? {} : { field: options.partitionKey };
  if (options.file !== undefined) {
    const file = options.file;
    await fileSize(file);
    // Read whole first, as `run` does: a bad line exits 2 before any record is on the stream.
    const { records: inFile, events } = await checkFile(file);
    const count = events > 0 ? undefined : inFile;
    if (limit !== undefined && count !== undefined && limit > count)
      fail(`--records ${limit} is more than the ${count} records of ${file}`);
    if (inFile === 0 && events === 0) fail(`${file} holds no records`);
    // Every key is checked before the first put too (a missing --partition-key field exits 2).
    if (options.partitionKey !== undefined) await countRecords(fileRecords(file, rule));
    return { records: take(fileRecords(file, rule), limit), total: limit ?? count };
  }
  const module = options.generate as string;
  const generator = await loadGenerator(module);
  return { records: generatedRecords(generatedData(generator, limit), rule, module), total: limit };
}

async function countRecords(records: AsyncIterable<unknown>): Promise<number> {
  let count = 0;
  for await (const _record of records) count += 1;
  return count;
}

async function* take<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncGenerator<T> {
  if (limit === undefined) {
    yield* items;
    return;
  }
  let count = 0;
  for await (const item of items) {
    if (count >= limit) return;
    yield item;
    count += 1;
  }
}

/**
 * `driverless put`: records from a file or a generator onto a stream, paced with `--rate`; with
 * `--records N` (or `--wait`) on the running embedded stack, waits until every mapping of the
 * stream has processed (dead-lettering included), filtered or discarded each record, and exits 0
 * only if each is accounted for and none was discarded. Returns the exit code.
 */
export async function runPut(options: PutOptions): Promise<number> {
  const { limit, rate, timeoutMs } = checkOptions(options);
  const target: PutTarget = await resolvePutTarget(options.stream as string, options.endpoint);
  const { records, total } = await openRecords(options, limit);
  const wait = options.wait === true || limit !== undefined;
  const follow = wait ? target.local : undefined;
  const tracker = follow
    ? new SettledTracker(follow.mappings, (await follow.settled(Number.MAX_SAFE_INTEGER)).next)
    : undefined;
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const progress = new PutProgress(target.streamName, total);
  const started = performance.now();
  let polling: Promise<void> = Promise.resolve();
  const poll = async () => {
    if (!tracker || !follow) return;
    while (tracker.take(await follow.settled(tracker.cursor)));
  };
  const poller = setInterval(() => {
    polling = polling.then(poll, poll);
  }, POLL_MS);
  try {
    const report = await sendRecords(records, {
      ...(rate === undefined ? {} : { rate }),
      put: (entries) =>
        target.kinesis.client.send(
          new PutRecordsCommand({ StreamName: target.streamName, Records: entries }),
        ),
      ...(tracker ? { onPut: (record) => tracker.sent(record) } : {}),
      onProgress: (sent) => progress.sending(sent.sent, sent.failed),
      stopped: () => stopping,
    });
    const sentMs = performance.now() - started;
    progress.sending(report.sent, report.failed, true);
    let timedOut = false;
    if (tracker) {
      const deadline = Date.now() + timeoutMs;
      await polling;
      await poll();
      while (tracker.missing > 0 && !tracker.lostTrack && !stopping) {
        if (Date.now() > deadline) {
          timedOut = true;
          break;
        }
        progress.waiting(report.sent, tracker.tallies());
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        await polling;
        await poll();
      }
    }
    progress.done();
    const summary: PutSummary = {
      stream: target.streamName,
      shards: target.shards,
      endpoint: target.kinesis.endpoint,
      sent: report.sent,
      failedToPut: report.failed,
      putErrors: Object.fromEntries(report.failures),
      durationMs: Math.round(sentMs),
      recordsPerSecond: Math.round(report.sent / Math.max(sentMs / 1000, 0.001)),
      stopped: stopping,
      ...(tracker
        ? {
            mappings: tracker.tallies(),
            accountedFor: tracker.missing === 0 && !tracker.lostTrack,
            lostTrack: tracker.lostTrack,
            timedOut,
          }
        : {}),
      tracked: tracker !== undefined ? 'yes' : wait ? 'not-local' : 'not-asked',
    };
    process.stdout.write(formatPutSummary(summary));
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    const discarded = (summary.mappings ?? []).some((m) => m.discarded > 0);
    const ok =
      summary.failedToPut === 0 && !stopping && (summary.accountedFor ?? true) && !discarded;
    return ok ? EXIT_OK : EXIT_FAILURE;
  } finally {
    clearInterval(poller);
    progress.done();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
