import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** Options of {@link lambdaContext}. */
export interface LambdaContextOptions {
  /** @default 'test-function' */
  readonly functionName?: string;
  /** @default '1' */
  readonly functionVersion?: string;
  /** The alias or version the invocation named, in `invokedFunctionArn`. @default 'live' */
  readonly qualifier?: string;
  /** Time left before the function times out; the clock starts when the context is made. @default 60000 */
  readonly remainingMs?: number;
  /** @default - a new UUID */
  readonly requestId?: string;
  /** @default 1024 */
  readonly memoryMb?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /** The client context the invoker sent (e.g. `driverless redrive`'s replay marker). @default - none */
  readonly clientContext?: unknown;
}

/**
 * A context as Lambda's Node.js runtime passes it: `getRemainingTimeInMillis()` counts down from
 * `remainingMs` in real time, so the runtime's job deadlines behave as on Lambda.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-context.html
 */
export function lambdaContext(options: LambdaContextOptions = {}): Context {
  const functionName = options.functionName ?? 'test-function';
  const remainingMs = options.remainingMs ?? 60_000;
  if (!(remainingMs >= 0)) throw new Error(`remainingMs must be 0 or more (given ${remainingMs})`);
  const deadline = Date.now() + remainingMs;
  const version = options.functionVersion ?? '1';
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: version,
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${functionName}:${options.qualifier ?? 'live'}`,
    memoryLimitInMB: String(options.memoryMb ?? 1024),
    awsRequestId: options.requestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${date}/[${version}]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    // The `aws-lambda` type models only the Mobile SDK's client context; Lambda passes any JSON.
    ...(options.clientContext === undefined
      ? {}
      : { clientContext: options.clientContext as Context['clientContext'] }),
  };
}
