import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionHost, ResolvedFunction } from './functions/function-host';
import { LambdaServiceError } from './functions/lambda-service-error';
import type { EventSourceMappingConfig } from './model';
import { foreignRequestReason } from './servers/loopback-guard';
import { SETTLED_RECORDS_PATH, type SettledRecords } from './settled-records';

export interface LambdaApiOptions {
  /** The functions to serve. */
  readonly host: Pick<FunctionHost, 'invoke' | 'resolve' | 'list'>;
  /** The mappings ListEventSourceMappings reports. @default - none */
  readonly listEventSourceMappings?: () => readonly EventSourceMappingConfig[];
  /**
   * Served at `GET /driverless/settled-records?after=<n>` (not an AWS API): what the mappings have
   * settled, for tools waiting on their records. @default - not served
   */
  readonly settledRecords?: Pick<SettledRecords, 'since'>;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
}

export interface LambdaApi {
  /** `http://127.0.0.1:<port>`: the `endpoint` of a `LambdaClient`, or `--endpoint-url` of the AWS CLI. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
}

/**
 * Request size limits of Invoke: 6 MB synchronous, 1 MB asynchronous.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
const MAX_SYNC_REQUEST_BYTES = 6 * 1024 * 1024;
const MAX_ASYNC_REQUEST_BYTES = 1024 * 1024;
/** `X-Amz-Log-Result` carries the last 4 KB of the invocation's log. */
const LOG_TAIL_BYTES = 4096;
const API = '/2015-03-31';

type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

/**
 * Serves the part of the Lambda REST API that clients of the embedded stack use: Invoke,
 * ListFunctions, GetFunction, GetFunctionConfiguration, ListEventSourceMappings and
 * GetEventSourceMapping, so `@aws-sdk/client-lambda` and `aws lambda … --endpoint-url` work locally.
 * Only programs on this machine are served: a request from a web page (an `Origin` or
 * `Sec-Fetch-Site` header) or naming a Host other than loopback with this port (DNS rebinding) is
 * refused before it is routed, so a page cannot invoke functions or read their environment.
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 */
export async function startLambdaApi(options: LambdaApiOptions): Promise<LambdaApi> {
  let port = 0;
  const server = createServer(function handleLambdaRequest(request, response) {
    const refused = foreignRequestReason(request.headers, port);
    if (refused !== undefined) {
      request.resume();
      sendError(response, new LambdaServiceError('AccessDeniedException', refused));
      return;
    }
    route(options, request, response).catch((error: unknown) => {
      sendError(response, toServiceError(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function route(
  options: LambdaApiOptions,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === SETTLED_RECORDS_PATH && options.settledRecords && request.method === 'GET') {
    const after = Number(url.searchParams.get('after') ?? '0');
    return sendJson(
      response,
      200,
      options.settledRecords.since(Number.isSafeInteger(after) && after >= 0 ? after : 0),
    );
  }
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  if (`/${segments[0]}` !== API) return sendUnknownOperation(response, request);
  const [, collection, id, action] = segments.map((segment) => decodeURIComponent(segment));
  const query = url.searchParams;
  const method = request.method ?? 'GET';

  if (collection === 'functions') {
    if (method === 'POST' && id !== undefined && action === 'invocations') {
      return invoke(options, id, query.get('Qualifier') ?? undefined, request, response);
    }
    if (method === 'GET' && id === undefined) {
      return sendJson(response, 200, {
        Functions: options.host.list().map(functionConfiguration),
      });
    }
    if (method === 'GET' && id !== undefined && action === undefined) {
      const resolved = options.host.resolve(id, query.get('Qualifier') ?? undefined);
      return sendJson(response, 200, getFunction(resolved));
    }
    if (method === 'GET' && id !== undefined && action === 'configuration') {
      const resolved = options.host.resolve(id, query.get('Qualifier') ?? undefined);
      return sendJson(response, 200, functionConfiguration(resolved));
    }
  }
  if (collection === 'event-source-mappings' && method === 'GET') {
    const mappings = (options.listEventSourceMappings?.() ?? []).map((mapping) =>
      eventSourceMapping(options, mapping),
    );
    if (id === undefined) {
      const functionName = query.get('FunctionName');
      const functionArn =
        functionName === null ? undefined : options.host.resolve(functionName).function.arn;
      const sourceArn = query.get('EventSourceArn');
      return sendJson(response, 200, {
        EventSourceMappings: mappings.filter(
          (mapping) =>
            (functionArn === undefined || mapping.FunctionArn.startsWith(functionArn)) &&
            (sourceArn === null || mapping.EventSourceArn === sourceArn),
        ),
      });
    }
    const mapping = mappings.find((candidate) => candidate.UUID === id);
    if (mapping === undefined) {
      throw new LambdaServiceError(
        'ResourceNotFoundException',
        'The resource you requested does not exist.',
      );
    }
    return sendJson(response, 200, mapping);
  }
  return sendUnknownOperation(response, request);
}

async function invoke(
  options: LambdaApiOptions,
  functionName: string,
  qualifier: string | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const type = (header(request, 'x-amz-invocation-type') ?? 'RequestResponse') as InvocationType;
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    throw new LambdaServiceError(
      'InvalidParameterValueException',
      `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun (given ${type})`,
    );
  }
  const limit = type === 'Event' ? MAX_ASYNC_REQUEST_BYTES : MAX_SYNC_REQUEST_BYTES;
  const body = await readBody(request, limit, type === 'Event' ? 'InvokeAsync' : 'InvokeFunction');
  const event = parseEvent(body);
  const resolved = options.host.resolve(functionName, qualifier);
  const reference =
    resolved.qualifier === undefined
      ? resolved.function.name
      : `${resolved.function.name}:${resolved.qualifier}`;

  if (type === 'DryRun') {
    response.writeHead(204, { 'x-amzn-RequestId': randomUUID() }).end();
    return;
  }
  if (type === 'Event') {
    // Lambda queues the event and answers at once. Its async retries and destinations are not
    // emulated: a failed asynchronous invocation only shows in the function's log.
    options.host.invoke(reference, undefined, event).catch(() => {});
    response.writeHead(202, { 'x-amzn-RequestId': randomUUID() }).end();
    return;
  }
  const tail = header(request, 'x-amz-log-type') === 'Tail';
  const clientContext = parseClientContext(header(request, 'x-amz-client-context'));
  const result = await options.host.invoke(reference, undefined, event, {
    tail,
    ...(clientContext === undefined ? {} : { clientContext }),
  });
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'x-amzn-RequestId': result.requestId,
    'X-Amz-Executed-Version': result.executedVersion,
  };
  if (result.functionError !== undefined) headers['X-Amz-Function-Error'] = result.functionError;
  if (tail) headers['X-Amz-Log-Result'] = logTail(result.log ?? []);
  response.writeHead(200, headers).end(result.payloadJson);
}

function logTail(lines: readonly string[]): string {
  const log = Buffer.from(lines.map((line) => `${line}\n`).join(''));
  return log.subarray(Math.max(0, log.length - LOG_TAIL_BYTES)).toString('base64');
}

function parseEvent(body: Buffer): unknown {
  // An invocation without a payload receives an empty object, as `aws lambda invoke` does.
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new LambdaServiceError(
      'InvalidRequestContentException',
      `Could not parse request body into json: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

async function readBody(
  request: IncomingMessage,
  limit: number,
  operation: string,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      throw new LambdaServiceError(
        'RequestTooLargeException',
        `Request must be smaller than ${limit} bytes for the ${operation} operation`,
      );
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The FunctionConfiguration shape of GetFunction and ListFunctions. */
function functionConfiguration(resolved: ResolvedFunction): Record<string, unknown> {
  const fn = resolved.function;
  return {
    FunctionName: fn.name,
    FunctionArn: resolved.qualifier === undefined ? fn.arn : `${fn.arn}:${resolved.version}`,
    Runtime: 'nodejs24.x',
    Handler: fn.handler,
    Timeout: fn.timeoutSeconds,
    MemorySize: fn.memoryMb,
    Version: resolved.version,
    Environment: { Variables: fn.environment },
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: ['x86_64'],
  };
}

function getFunction(resolved: ResolvedFunction): Record<string, unknown> {
  const { reservedConcurrency } = resolved.function;
  return {
    Configuration: functionConfiguration(resolved),
    Code: { RepositoryType: 'Local', Location: `file://${resolved.codeDirectory}` },
    ...(reservedConcurrency === undefined
      ? {}
      : { Concurrency: { ReservedConcurrentExecutions: reservedConcurrency } }),
  };
}

interface EventSourceMappingShape {
  UUID: string;
  EventSourceArn: string;
  FunctionArn: string;
  [key: string]: unknown;
}

/** The EventSourceMappingConfiguration shape. */
function eventSourceMapping(
  options: LambdaApiOptions,
  mapping: EventSourceMappingConfig,
): EventSourceMappingShape {
  let functionArn = mapping.functionName;
  try {
    functionArn = options.host.resolve(mapping.functionName, mapping.functionQualifier).invokedArn;
  } catch {
    // A mapping of a function the host does not run: report the name it was given.
  }
  return {
    UUID: mapping.uuid,
    EventSourceArn: mapping.eventSourceArn,
    FunctionArn: functionArn,
    StartingPosition: mapping.startingPosition,
    ...(mapping.startingPositionTimestamp === undefined
      ? {}
      : { StartingPositionTimestamp: mapping.startingPositionTimestamp }),
    BatchSize: mapping.batchSize,
    MaximumBatchingWindowInSeconds: mapping.maximumBatchingWindowSeconds,
    ParallelizationFactor: mapping.parallelizationFactor,
    MaximumRetryAttempts: mapping.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: mapping.maximumRecordAgeSeconds,
    BisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError,
    TumblingWindowInSeconds: mapping.tumblingWindowSeconds,
    FunctionResponseTypes: mapping.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    ...(mapping.filters.length === 0
      ? {}
      : { FilterCriteria: { Filters: mapping.filters.map((pattern) => ({ Pattern: pattern })) } }),
    ...(mapping.onFailure === undefined
      ? {}
      : { DestinationConfig: { OnFailure: { Destination: mapping.onFailure.arn } } }),
    State: mapping.enabled ? 'Enabled' : 'Disabled',
    StateTransitionReason: 'USER_INITIATED',
  };
}

function toServiceError(error: unknown): LambdaServiceError {
  if (error instanceof LambdaServiceError) return error;
  return new LambdaServiceError(
    'ServiceException',
    error instanceof Error ? error.message : String(error),
  );
}

/**
 * Lambda's REST-JSON error: the code in `x-amzn-ErrorType` (which the SDK maps to an exception
 * class) and `{ Type, message }` in the body.
 */
function sendError(response: ServerResponse, error: LambdaServiceError): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const body: Record<string, string> = { Type: error.type, message: error.message };
  if (error.name === 'TooManyRequestsException') {
    body.Reason = 'ReservedFunctionConcurrentInvocationLimitExceeded';
  }
  response
    .writeHead(error.statusCode, {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': error.name,
      'x-amzn-RequestId': randomUUID(),
    })
    .end(JSON.stringify(body));
}

function sendUnknownOperation(response: ServerResponse, request: IncomingMessage): void {
  response
    .writeHead(404, {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': 'UnknownOperationException',
    })
    .end(
      JSON.stringify({
        Type: 'User',
        message: `The embedded Lambda API does not serve ${request.method} ${request.url}`,
      }),
    );
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomUUID() })
    .end(JSON.stringify(body));
}

/** `X-Amz-Client-Context`: base64 of a JSON object, handed to the handler as `context.clientContext`. */
function parseClientContext(value: string | undefined): unknown {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
}
