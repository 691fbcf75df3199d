import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import type { BatchResponse, KinesisEvent } from 'driverless/runtime';
import { REPLAY_CLIENT_CONTEXT } from '../../functions/runtime/replay-context';
import { fail, oneLine } from '../cli-error';

/** A handler as `driverless run` calls it: exactly Lambda's (event, context) signature. */
export type LoadedHandler = (
  event: KinesisEvent,
  context: Context,
) => Promise<BatchResponse<unknown> | undefined>;

/**
 * Imports a handler module after setting `DRIVERLESS_JOBS` (the runtime selects jobs at import).
 * Every import failure (unknown job, missing environment, syntax) exits 2 with its first line.
 */
export async function loadHandler(entry: string, jobs: string | undefined): Promise<LoadedHandler> {
  if (jobs !== undefined) process.env.DRIVERLESS_JOBS = jobs;
  const module = await importBundled(entry, 'handler module', 'a .ts file exporting handler');
  // A CommonJS module imported from ESM may put its exports under `default`.
  const handler =
    module.handler ?? (module as { default?: { handler?: unknown } }).default?.handler;
  if (typeof handler !== 'function')
    fail(`${entry} exports no handler function (export const handler = microBatch({...}))`);
  return handler as LoadedHandler;
}

/**
 * Imports a user's TypeScript or JavaScript module, bundled as the construct bundles a handler
 * (see {@link bundleHandler}), and returns its exports. A missing file, a build error or a throw
 * at import exits 2 with one line; `what` and `expected` name the module in that line.
 */
export async function importBundled(
  entry: string,
  what: string,
  expected: string,
): Promise<Record<string, unknown>> {
  const path = resolve(entry);
  if (!existsSync(path)) fail(`${what} ${entry} does not exist (give the path of ${expected})`);
  const bundle = await bundleHandler(path, entry);
  let module: Record<string, unknown>;
  try {
    // A plain absolute path: it imports under Node ESM and under jest (which turns import() into require).
    module = (await import(bundle)) as Record<string, unknown>;
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    await rm(bundle, { force: true });
    fail(`cannot load ${entry}: ${name === 'Error' ? '' : `${name}: `}${oneLine(error)}`);
  }
  // Node has read the bundle once it is imported (its source map is inline): nothing is left behind.
  await rm(bundle, { force: true });
  return module;
}

/** The nearest folder at or above `path` holding a package.json (where node_modules resolves). */
function projectRoot(path: string): string {
  let dir = dirname(path);
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Bundles the handler the way the construct does for Lambda (esbuild, CommonJS, AWS SDK
 * external): the source can then use ESM-only packages such as @middy/core, which a CommonJS
 * project cannot load from source. The bundle lives in `<project>/.driverless/run/` so the AWS
 * SDK resolves from the project's node_modules, and is deleted once loaded.
 */
async function bundleHandler(path: string, entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const dir = join(projectRoot(path), '.driverless', 'run');
  await mkdir(dir, { recursive: true });
  const outfile = join(
    dir,
    `${basename(path).replace(/\.[cm]?[jt]s$/, '')}-${process.pid}-${Date.now()}.cjs`,
  );
  try {
    await build({
      entryPoints: [path],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node22',
      external: ['@aws-sdk/*'],
      sourcemap: 'inline',
      logLevel: 'silent',
    });
  } catch (error) {
    const first = (
      error as { errors?: { text?: string; location?: { file?: string; line?: number } }[] }
    ).errors?.[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    fail(`cannot build ${entry}: ${first?.text ?? oneLine(error)}${where}`);
  }
  return outfile;
}

/** Lambda's maximum timeout: batch mode gives every invocation the most time Lambda could. */
const REMAINING_MS = 15 * 60 * 1000;

/**
 * A Lambda-like context for one invocation of a local run. With `replay` it carries the runtime's
 * replay marker as its client context, as `driverless redrive` does: the runtime then bypasses
 * per-job cursors and every job sees every record again.
 */
export function runContext(
  functionName: string,
  invocation: number,
  options: { readonly replay?: boolean } = {},
): Context {
  const deadline = Date.now() + REMAINING_MS;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `driverless-run-${process.pid}-${invocation}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'driverless-run',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    // Lambda's Node runtime hands the handler the decoded client context as sent; the
    // `aws-lambda` type models only the Mobile SDK's shape, hence the cast.
    ...(options.replay ? { clientContext: REPLAY_CLIENT_CONTEXT as Context['clientContext'] } : {}),
  };
}
