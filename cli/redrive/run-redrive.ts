import { existsSync } from 'node:fs';
import { STATE_FILE } from '../../emulator/index';
import { type RedriveProgress, type RedriveSummary, redrive } from './redrive';
import {
  clientsFromEnvironment,
  clientsFromStateFile,
  type RedriveClients,
} from './redrive-clients';
import { RedriveStoppedError, RedriveUsageError } from './redrive-error';

/** The `driverless redrive` options, as the command line gives them. */
export interface RedriveCommandOptions {
  readonly source: string;
  readonly job?: string;
  readonly since?: string;
  readonly dryRun?: boolean;
  readonly json?: boolean;
  /** @default '.driverless/local.json' when it exists, else the environment's endpoints */
  readonly endpointFile?: string;
}

/** Where the command writes: injectable for tests. */
export interface RedriveOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (the progress bar redraws one line). */
  readonly interactive: boolean;
  /** The terminal's width, which a redrawn line must not pass. @default 120 */
  readonly columns?: number;
}

/**
 * `--since`: an ISO-8601 time, or a duration back from now (`90s`, `15m`, `2h`, `7d`).
 * @see https://en.wikipedia.org/wiki/ISO_8601
 */
export function parseSince(value: string, now = Date.now()): Date {
  const relative = /^(\d+)(s|m|h|d)$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's'];
    return new Date(now - Number(relative[1]) * unit);
  }
  const time = Date.parse(value);
  if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new RedriveUsageError(
      `--since must be an ISO-8601 time (2026-01-15T09:00:00Z) or a duration like 15m, 2h, 7d (given ${value})`,
    );
  }
  if (time > now) {
    throw new RedriveUsageError(
      `--since is in the future (given ${value}): name a past time or a duration like 2h`,
    );
  }
  return new Date(time);
}

/**
 * One labelled bar per destination read and per replay:
 * `reading dead letters in queue orders-dlq [#####.....] 12/40 messages`.
 */
function progressBar(output: RedriveOutput): (progress: RedriveProgress) => void {
  let last = '';
  return ({ phase, done, total, what, unit }) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    const label = `${phase}${what ? ` ${what}` : ''}`;
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${unit ? ` ${unit}` : ''}`;
    // A redrawn line must fit the terminal: a wrapped one is redrawn as a new line each time.
    const room = (output.columns ?? 120) - bar.length - 2;
    const cut = label.length > room ? `${label.slice(0, Math.max(0, room - 1))}…` : label;
    const line = `${cut} ${bar}`;
    if (line === last) return;
    last = line;
    if (output.interactive) output.stderr(`\r${line}${done >= total ? '\n' : ''}`);
    else if (done >= total) output.stderr(`${line}\n`);
  };
}

function describe(summary: RedriveSummary): string {
  const lines = [
    `${summary.dryRun ? 'dry run: ' : ''}source ${summary.source}${summary.job ? ` job ${summary.job}` : ''}: ` +
      `${summary.messages} messages, ${summary.records} records`,
    summary.dryRun
      ? `  would replay:     ${summary.records}`
      : `  recovered:        ${summary.recovered}`,
    `  still failing:    ${summary.stillFailing}`,
    `  not recoverable:  ${summary.notRecoverable}`,
    `  deleted messages: ${summary.deleted}`,
    ...summary.notRecoverableIds.map((id) => `  not recoverable: ${id}`),
    ...summary.stillFailingIds.slice(0, 20).map((id) => `  still failing: ${id}`),
    ...(summary.stillFailingIds.length > 20
      ? [
          `  … and ${summary.stillFailingIds.length - 20} more still failing (--json lists them all)`,
        ]
      : []),
    ...reasonLines(summary),
  ];
  return `${lines.join('\n')}\n`;
}

/** Per function, the records read by reason (most frequent first), with a sample or two of each. */
function reasonLines(summary: RedriveSummary): string[] {
  if (summary.reasons.length === 0) return [];
  const lines = [
    summary.dryRun ? 'would replay, by function and reason:' : 'read, by function and reason:',
  ];
  const shown = summary.reasons.slice(0, 20);
  for (const functionName of new Set(shown.map((r) => r.functionName))) {
    lines.push(`  ${functionName}`);
    for (const { reason, records, samples } of shown.filter(
      (r) => r.functionName === functionName,
    )) {
      lines.push(`    ${records} × ${reason}`);
      for (const sample of samples) lines.push(`        e.g. ${sample}`);
    }
  }
  if (summary.reasons.length > shown.length)
    lines.push(
      `  … and ${summary.reasons.length - shown.length} more reasons (--json lists them all)`,
    );
  return lines;
}

/** An error that says the endpoint is not there (connection refused, DNS, timeout). */
function isUnreachable(error: unknown): boolean {
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'ECONNRESET', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(code ?? '') ||
    name === 'TimeoutError' ||
    /ECONNREFUSED|ENOTFOUND|socket hang up/.test(message ?? '')
  );
}

/**
 * Runs `driverless redrive` and returns its exit code: 0 when everything read was recovered
 * (or a dry run), 1 when records are still failing or not recoverable, 2 for bad usage or input.
 */
export async function runRedrive(
  options: RedriveCommandOptions,
  output: RedriveOutput,
  clients?: RedriveClients,
): Promise<number> {
  try {
    if (!options.source) throw new RedriveUsageError('--source is required: name a source');
    const since = options.since === undefined ? undefined : parseSince(options.since);
    const stateFile = options.endpointFile ?? (existsSync(STATE_FILE) ? STATE_FILE : undefined);
    const resolved =
      clients ?? (stateFile ? clientsFromStateFile(stateFile) : clientsFromEnvironment());
    const summary = await redrive({
      source: options.source,
      ...(options.job === undefined ? {} : { job: options.job }),
      ...(since === undefined ? {} : { since }),
      dryRun: options.dryRun ?? false,
      clients: resolved,
      onProgress: progressBar(output),
    }).catch((error: unknown) => {
      if (isUnreachable(error)) {
        throw new RedriveUsageError(
          `cannot reach the AWS endpoints${stateFile ? ` of ${stateFile}` : ''} (${(error as Error).message || (error as Error).name}): start the stack or fix --endpoint-file`,
        );
      }
      throw error;
    });
    output.stdout(options.json ? `${JSON.stringify(summary)}\n` : describe(summary));
    return summary.stillFailing > 0 || summary.notRecoverable > 0 ? 1 : 0;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    output.stderr(`driverless redrive: ${message}\n`);
    if (error instanceof RedriveStoppedError) return error.usage ? 2 : 1;
    return error instanceof RedriveUsageError ? 2 : 1;
  }
}
