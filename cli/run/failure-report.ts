import { existsSync, readFileSync } from 'node:fs';
import { STATE_FILE, type StackStateAsRead } from '../../emulator/index';
import type { RunError, RunSummary } from './batch-runner';

const n = (value: number) => value.toLocaleString('en-US');

/** At most this many distinct errors (and dead-letter reasons) are listed; the rest are counted. */
const MAX_LISTED = 10;

/** Words with which an error says a variable is missing, as handlers and libraries word it. */
const UNSET = /\b(not set|is missing|missing|undefined|required|must be set|not defined|empty)\b/i;

/** An environment variable's name: upper-case words joined by underscores (TABLE_NAME). */
const VARIABLE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

/**
 * The variables an error says are unset and that are indeed unset in `env`: the usual cause of a
 * run that fails every batch (the stack passes them to the function; a local run does not).
 */
export function unsetVariablesNamedIn(
  errors: readonly { readonly error: string }[],
  env: NodeJS.ProcessEnv,
): string[] {
  const names = new Set<string>();
  for (const { error } of errors) {
    if (!UNSET.test(error)) continue;
    for (const name of error.match(VARIABLE) ?? []) if (!env[name]) names.add(name);
  }
  return [...names];
}

function describeError(entry: RunError): string {
  const who = entry.job === undefined ? 'the handler threw in' : `job ${entry.job} failed`;
  const times = `${n(entry.invocations)} invocation${entry.invocations === 1 ? '' : 's'}`;
  return `  ${who} ${times} (${n(entry.records)} records, retries included): ${entry.error}`;
}

/**
 * Why a run failed, for stderr: every distinct job error with its counts, the reasons records
 * were dead-lettered, and a hint when an error names an environment variable this shell lacks.
 * Empty when the run did not fail. Without it, a run whose every batch failed printed only
 * `failed N` and the cause stayed in a log line.
 */
export function formatFailureReport(
  summary: RunSummary,
  deadLetterReasons: ReadonlyMap<string, number>,
  env: NodeJS.ProcessEnv,
  stackEnvironment: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): string {
  const lines: string[] = [];
  const failedAnything = summary.failed > 0 || summary.windowsFailed > 0;
  if (summary.errors.length > 0 && (failedAnything || summary.deadLettered > 0)) {
    const sorted = [...summary.errors].sort((a, b) => b.invocations - a.invocations);
    lines.push(
      `why records failed (${n(sorted.length)} distinct error${sorted.length === 1 ? '' : 's'}):`,
    );
    for (const entry of sorted.slice(0, MAX_LISTED)) lines.push(describeError(entry));
    if (sorted.length > MAX_LISTED) lines.push(`  … and ${n(sorted.length - MAX_LISTED)} more`);
  } else if (failedAnything) {
    lines.push(
      'why records failed: no job reported an error (the handler returned them as batch item failures)',
    );
  }
  if (deadLetterReasons.size > 0) {
    const sorted = [...deadLetterReasons].sort((a, b) => b[1] - a[1]);
    const total = sorted.reduce((sum, [, count]) => sum + count, 0);
    lines.push(
      `why records were dead-lettered (${n(total)} letters, ${n(sorted.length)} reason${sorted.length === 1 ? '' : 's'}):`,
    );
    for (const [reason, count] of sorted.slice(0, MAX_LISTED))
      lines.push(`  ${n(count)} × ${reason}`);
    if (sorted.length > MAX_LISTED) lines.push(`  … and ${n(sorted.length - MAX_LISTED)} more`);
    if (summary.failed === 0 && summary.windowsFailed === 0)
      lines.push('  (--allow-dead-letters exits 0 when dead letters are expected)');
  }
  for (const name of unsetVariablesNamedIn(summary.errors, env)) {
    const values = [...(stackEnvironment.get(name) ?? [])];
    // One value in the running local stack: the one the function gets there, ready to paste.
    const value = values.length === 1 ? values[0] : '<value>';
    const from =
      values.length === 1
        ? ` (the value the running local stack gives it, from ${STATE_FILE})`
        : '';
    lines.push(
      `hint: ${name} is not set here. The stack passes it to the function; \`run\` sets only ` +
        `AWS_REGION and AWS_LAMBDA_FUNCTION_NAME. Set it for the run${from}: ${name}=${value} npx driverless run …`,
    );
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * Every environment variable the functions of a running local stack get, with its values, from
 * its state file (`.driverless/local.json`); empty when no stack runs here.
 */
export function localStackEnvironment(path: string = STATE_FILE): Map<string, Set<string>> {
  const variables = new Map<string, Set<string>>();
  if (!existsSync(path)) return variables;
  let state: StackStateAsRead;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as StackStateAsRead;
  } catch {
    return variables;
  }
  for (const fn of Object.values(state.functions ?? {})) {
    for (const [name, value] of Object.entries(fn.environment ?? {})) {
      if (typeof value !== 'string') continue;
      const seen = variables.get(name) ?? new Set<string>();
      seen.add(value);
      variables.set(name, seen);
    }
  }
  return variables;
}
