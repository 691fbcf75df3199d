import { basename } from 'node:path';
import type { KinesisEvent } from 'driverless/runtime';
import { MAX_WINDOW_STATE_BYTES } from '../../functions/kinesis/index';
import { isWindowHandler } from '../../functions/runtime/windows';
import { CliError, EXIT_FAILURE, EXIT_OK, fail, oneLine } from '../cli-error';
import { parseIntegerOption, parseTime } from '../parse-time';
import { BatchRunner, type RunSummary } from './batch-runner';
import { captureStdout } from './capture-logs';
import {
  checkDeadLetterFile,
  countDeadLetters,
  deadLetterOffset,
  deadLetterReasons,
} from './dead-letter-file';
import { formatFailureReport, localStackEnvironment } from './failure-report';
import { finalTickEvent, setRunStateTable } from './final-tick';
import { formatSummary } from './format-summary';
import { setLambdaEnvironment } from './lambda-environment';
import { loadHandler } from './load-handler';
import { keepBatchLines } from './log-level';
import { ProgressBar } from './progress-bar';
import { checkFile, type FileProgress, fileSize, readFileBatches } from './read-file-batches';
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
  // Every input is checked before the first invocation (the file read whole, the stream's shards
  // listed, the dead-letter file opened): bad input exits 2 with nothing run.
  let openEvents: () => Promise<AsyncGenerator<KinesisEvent>>;
  let progress: FileProgress | undefined;
  let deadLetterFile: string;
  if (options.file !== undefined) {
    const file = options.file;
    if (options.from !== undefined || options.to !== undefined)
      fail('--from and --to go with --stream, not --file');
    const totalBytes = await fileSize(file);
    deadLetterFile = options.deadLetters ?? `${file}.dead-letters.ndjson`;
    await checkDeadLetterFile(deadLetterFile, {
      given: options.deadLetters !== undefined,
      inputFile: file,
    });
    openEvents = async () => {
      const checked = { bytesRead: 0, totalBytes };
      const bar = new ProgressBar();
      const timer = setInterval(() => bar.checking(file, checked.bytesRead / totalBytes), 200);
      try {
        await checkFile(file, checked);
      } finally {
        clearInterval(timer);
        bar.done();
      }
      progress = { bytesRead: 0, totalBytes };
      return readFileBatches(file, { batchSize, region, progress });
    };
  } else {
    if (options.from === undefined) fail('--stream needs --from <time> (ISO-8601 or -15m, -2h)');
    const now = Date.now();
    const from = parseTime(options.from, '--from', now);
    const to = options.to === undefined ? undefined : parseTime(options.to, '--to', now);
    if (from.getTime() > now)
      fail(
        `--from must not be in the future (given ${options.from}): nothing has arrived there yet`,
      );
    if (to && to < from)
      fail(`--to must not be before --from (given ${options.to} < ${options.from})`);
    const streamName = options.stream ?? '';
    deadLetterFile = options.deadLetters ?? `${streamName}.dead-letters.ndjson`;
    await checkDeadLetterFile(deadLetterFile, { given: options.deadLetters !== undefined });
    const events = await readStreamBatches(kinesisTarget(options.endpoint), {
      streamName,
      from,
      batchSize,
      ...(to ? { to } : {}),
    });
    openEvents = async () => events;
  }
  // The runtime picks its dead-letter sink at handler creation: point it at a local file.
  process.env.DRIVERLESS_DEAD_LETTER_FILE = deadLetterFile;
  const letterOffset = deadLetterOffset(deadLetterFile);
  const functionName = basename(entry).replace(/\.[cm]?[jt]s$/, '');
  setLambdaEnvironment(process.env, { functionName, region });
  const showLogLevel = keepBatchLines(process.env);
  setRunStateTable(process.env);
  // The handler loads before a file is read whole: a typo in it should not wait for a big file.
  const handler = await loadHandler(entry, options.jobs);
  if (tumblingSeconds === undefined && isWindowHandler(handler)) {
    // Events without window fields skip the handler's window code: the run would look fine and
    // write nothing.
    process.stderr.write(
      `warning: ${entry} has a tumbling window, but --tumbling-window is not set: its reduce and ` +
        "onClose will not run and nothing will be written. Pass --tumbling-window <seconds> (the source's tumblingWindow).\n",
    );
  }
  const events = await openEvents();

  const runner = new BatchRunner(handler, functionName, {
    ignoreCursors: options.ignoreCursors === true,
  });
  const bar = new ProgressBar(undefined, `running ${entry}`);
  const restore = captureStdout((line) => runner.observeLogLine(line), showLogLevel);
  const showProgress = () =>
    bar.update(
      runner.summary.records,
      progress && progress.totalBytes > 0 ? progress.bytesRead / progress.totalBytes : undefined,
    );
  let stopped: unknown;
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
    // Only an input that ended: a run stopped midway has records left, whose windows are not due.
    await runner.finalTick(finalTickEvent(process.env.DRIVERLESS_SOURCE || functionName));
  } catch (error) {
    stopped = error;
  } finally {
    restore();
    bar.done();
  }
  const summary: RunSummary = runner.finish(
    countDeadLetters(deadLetterFile, letterOffset),
    deadLetterFile,
  );
  if (stopped !== undefined && summary.invocations === 0) throw stopped;
  process.stdout.write(formatSummary(summary));
  if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  const failed =
    summary.failed > 0 ||
    summary.windowsFailed > 0 ||
    summary.finalTickFailed === true ||
    (summary.deadLettered > 0 && !options.allowDeadLetters);
  if (failed || stopped !== undefined) {
    process.stderr.write(
      formatFailureReport(
        summary,
        summary.deadLettered > 0 ? deadLetterReasons(deadLetterFile, letterOffset) : new Map(),
        process.env,
        localStackEnvironment(),
      ),
    );
  }
  if (stopped !== undefined) throw stoppedMidway(stopped, summary);
  return failed ? EXIT_FAILURE : EXIT_OK;
}

/**
 * A run that stopped after invocations had run (the file changed while it was read, the stream
 * failed): the cause and what was already done, in one line; the summary went to stdout. Its
 * effects are applied, so the user must know where it stopped before running it again.
 */
function stoppedMidway(error: unknown, summary: RunSummary): CliError {
  const n = (value: number) => value.toLocaleString('en-US');
  const done =
    `stopped after ${n(summary.records)} records had run ` +
    `(${n(summary.processed)} processed, ${n(summary.deadLettered)} dead-lettered, ${n(summary.failed)} failed; summary on stdout)`;
  return new CliError(
    `${oneLine(error)}; ${done}`,
    error instanceof CliError ? error.exitCode : EXIT_FAILURE,
  );
}
