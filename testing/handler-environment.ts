import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEAD_LETTER_FILE_VARIABLE } from '../functions/runtime/dead-letter-sinks';

/** What {@link setHandlerEnvironment} set. */
export interface HandlerEnvironment {
  /** The NDJSON file the handler's dead letters are appended to; {@link invoke} reads it. */
  readonly deadLetterFile: string;
}

/**
 * Sets the environment a handler module reads when it is imported, as Lambda would give it:
 * `AWS_REGION`, your variables (e.g. `TABLE_NAME`), and dead letters to a local file (the sink
 * `driverless run` uses) so {@link invoke} can return them instead of them going to a queue.
 * The runtime's own logs and metrics are off unless you set `POWERTOOLS_LOG_LEVEL` or
 * `POWERTOOLS_METRICS_DISABLED`. Call it before importing the handler: `microBatch()` picks its
 * dead-letter sink when it runs.
 */
export function setHandlerEnvironment(
  variables: Readonly<Record<string, string>> = {},
): HandlerEnvironment {
  const env = process.env;
  // One file per process, kept when already set: a handler imported after an earlier call still
  // appends to it, and `invoke` reads only the letters of its own invocation.
  if (!env[DEAD_LETTER_FILE_VARIABLE]) {
    const file = join(tmpdir(), `driverless-test-${process.pid}.dead-letters.ndjson`);
    rmSync(file, { force: true });
    // Once per process: a test runner that reloads this module per test file would otherwise add
    // a listener per file.
    const cleanup = 'removeDriverlessTestDeadLetters';
    if (!process.listeners('exit').some((listener) => listener.name === cleanup)) {
      process.once('exit', { [cleanup]: () => rmSync(file, { force: true }) }[cleanup]);
    }
    env[DEAD_LETTER_FILE_VARIABLE] = file;
  }
  env.AWS_REGION ||= 'us-east-1';
  env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  Object.assign(env, variables);
  return { deadLetterFile: env[DEAD_LETTER_FILE_VARIABLE] as string };
}

/** The dead-letter file handlers of this process append to, if {@link setHandlerEnvironment} ran. */
export function deadLetterFile(): string | undefined {
  return process.env[DEAD_LETTER_FILE_VARIABLE] || undefined;
}
