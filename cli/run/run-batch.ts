import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { KinesisEvent } from 'driverless/runtime';
import { MAX_WINDOW_STATE_BYTES } from '../../functions/kinesis/index';
import { EXIT_FAILURE, EXIT_OK, fail } from '../cli-error';
import { parseIntegerOption, parseTime } from '../parse-time';
import { BatchRunner, type RunSummary } from './batch-runner';
import { captureStdout } from './capture-logs';
import { formatSummary } from './format-summary';
import { setLambdaEnvironment } from './lambda-environment';
import { loadHandler } from './load-handler';
import { ProgressBar } from './progress-bar';
import { type FileProgress, fileSize, readFileBatches } from './read-file-batches';
import { kinesisTarget, readStreamBatches } from './read-stream-batches';
import { runWindows } from './run-windows';
import { windowBatches } from './window-batches';

/** Options of `driverless run`, as commander parses them. */
export interface RunOptions {
  readonly file?: string;
  readonly stream?: string;
  readonly from?: string;
  readonly to?: string;
  readonly endpoint?: string;
  readonly batchSize: string;
  readonly jobs?: string;
  readonly allowDeadLetters?: boolean;
  readonly deadLetters?: string;
  readonly json?: boolean;
  readonly ignoreCursors?: boolean;
  readonly tumblingWindow?: string;
}

/** Distinct dead letters appended to `path` after `offset` bytes. */
function countDeadLetters(path: string, offset: number): number {
  if (!existsSync(path)) return 0;
  const ids = new Set<string>();
  for (const line of readFileSync(path).subarray(offset).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      ids.add(String((JSON.parse(line) as { id?: unknown }).id ?? line));
    } catch {
      ids.add(line);
    }
  }
  return ids.size;
}

/**
 * `driverless run`: a handler over a file or a stream's time range, in micro-batches with the
 * stream's semantics. Returns the exit code; bad input throws {@link CliError}.
 */
export async function runBatch(entry: string, options: RunOptions): Promise<number> {
  const batchSize = parseIntegerOption(options.batchSize, '--batch-size', 1, 10_000);
  // TumblingWindowInSeconds takes 0-900 (docs/event-source-mapping.md#tumbling-windows); 0 means no
  // window: omit the option.
  const tumblingSeconds =
    options.tumblingWindow === undefined
      ? undefined
      : parseIntegerOption(options.tumblingWindow, '--tumbling-window', 1, 900);
  if ((options.file === undefined) === (options.stream === undefined)) {
    fail('give either --file <path> or --stream <name> --from <time>');
  }
  if (options.jobs !== undefined && !/^!?[\w-]+(,!?[\w-]+)*$/.test(options.jobs)) {
    fail(`--jobs must be job names separated by commas, like a,b or !a (given ${options.jobs})`);
  }
  const region = process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1';
  let events: AsyncGenerator<KinesisEvent>;
  let progress: FileProgress | undefined;
  let deadLetterFile: string;
  if (options.file !== undefined) {
    if (options.from !== undefined || options.to !== undefined)
      fail('--from and --to go with --stream, not --file');
    progress = { bytesRead: 0, totalBytes: await fileSize(options.file) };
    deadLetterFile = options.deadLetters ?? `${options.file}.dead-letters.ndjson`;
    events = readFileBatches(options.file, { batchSize, region, progress });
  } else {
    if (options.from === undefined) fail('--stream needs --from <time> (ISO-8601 or -15m, -2h)');
    const now = Date.now();
    const from = parseTime(options.from, '--from', now);
    const to = options.to === undefined ? undefined : parseTime(options.to, '--to', now);
    if (to && to < from)
      fail(`--to must not be before --from (given ${options.to} < ${options.from})`);
    const streamName = options.stream ?? '';
    deadLetterFile = options.deadLetters ?? `${streamName}.dead-letters.ndjson`;
    events = readStreamBatches(kinesisTarget(options.endpoint), {
      streamName,
      from,
      batchSize,
      ...(to ? { to } : {}),
    });
  }
  // The runtime picks its dead-letter sink at handler creation: point it at a local file.
  process.env.DRIVERLESS_DEAD_LETTER_FILE = deadLetterFile;
  const deadLetterOffset = existsSync(deadLetterFile) ? statSync(deadLetterFile).size : 0;
  const functionName = basename(entry).replace(/\.[cm]?[jt]s$/, '');
  setLambdaEnvironment(process.env, { functionName, region });
  const handler = await loadHandler(entry, options.jobs);

  const runner = new BatchRunner(handler, functionName, {
    ignoreCursors: options.ignoreCursors === true,
  });
  const bar = new ProgressBar();
  const restore = captureStdout((line) => runner.observeLogLine(line));
  const showProgress = () =>
    bar.update(
      runner.summary.records,
      progress && progress.totalBytes > 0 ? progress.bytesRead / progress.totalBytes : undefined,
    );
  try {
    if (tumblingSeconds === undefined) {
      for await (const event of events) {
        await runner.run(event);
        showProgress();
      }
    } else {
      const tumblingMs = tumblingSeconds * 1000;
      await runWindows(windowBatches(events, { tumblingMs, batchSize }), runner, {
        tumblingMs,
        maxStateBytes: MAX_WINDOW_STATE_BYTES,
        onBatch: showProgress,
      });
    }
  } finally {
    restore();
    bar.done();
  }
  const summary: RunSummary = runner.finish(
    countDeadLetters(deadLetterFile, deadLetterOffset),
    deadLetterFile,
  );
  process.stdout.write(formatSummary(summary));
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  if (summary.failed > 0 || summary.windowsFailed > 0) return EXIT_FAILURE;
  if (summary.deadLettered > 0 && !options.allowDeadLetters) return EXIT_FAILURE;
  return EXIT_OK;
}
