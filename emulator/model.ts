/**
 * The local app: what the embedded stack runs, read from the synthesized cloud assembly.
 * Every name here is a *physical* name on the embedded servers; intrinsics are already resolved.
 */
import type { BundleRecipe } from '../lib/function-bundle';

export interface LocalStream {
  logicalId: string;
  name: string;
  arn: string;
  shardCount: number;
  /** Retention in hours (AWS default 24). */
  retentionHours: number;
  /** `KMS` when the template asks for encryption; a no-op on servers that lack it. */
  encryption?: 'KMS';
}

export interface LocalStreamConsumer {
  logicalId: string;
  name: string;
  /** The consumer ARN as AWS shapes it: `<streamArn>/consumer/<name>:<creationEpoch>`. */
  arn: string;
  streamArn: string;
}

export interface LocalTable {
  logicalId: string;
  name: string;
  arn: string;
  partitionKey: { name: string; type: 'S' | 'N' | 'B' };
  sortKey?: { name: string; type: 'S' | 'N' | 'B' };
}

export interface LocalQueue {
  logicalId: string;
  name: string;
  arn: string;
  url: string;
}

export interface LocalBucket {
  logicalId: string;
  name: string;
  arn: string;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** Absolute path of the asset directory CDK produced (holds the bundle). */
  codeDirectory: string;
  /** `index.handler` style, relative to `codeDirectory`. */
  handler: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
  /** Alias names pointing at this function (e.g. `live`). */
  aliases: string[];
  reservedConcurrency?: number;
  /**
   * The execution role's ARN, resolved from the template's `Role` (what an event source mapping
   * puts in `invokeIdentityArn`). Absent when the template gives no role.
   */
  roleArn?: string;
  /**
   * How to rebuild the bundle without the CDK, from the resource's `driverless:bundle` metadata
   * (a Driverless StreamFunction writes it). Absent for other functions.
   */
  bundle?: BundleRecipe;
}

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

export interface OnFailureDestination {
  kind: 'sqs' | 's3' | 'sns';
  arn: string;
}

/**
 * One AWS::Lambda::EventSourceMapping, with AWS defaults applied
 * (docs/event-source-mapping.md#mapping-parameters).
 */
export interface EventSourceMappingConfig {
  logicalId: string;
  uuid: string;
  /** The function name the mapping invokes, with its qualifier if any (`name:live`). */
  functionName: string;
  functionQualifier?: string;
  /** Stream ARN, or consumer ARN for enhanced fan-out. */
  eventSourceArn: string;
  /** The stream's ARN (same as `eventSourceArn` unless this is a consumer mapping). */
  streamArn: string;
  consumerArn?: string;
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  parallelizationFactor: number;
  startingPosition: StartingPosition;
  startingPositionTimestamp?: number;
  /** -1 = infinite. */
  maximumRetryAttempts: number;
  /** -1 = infinite. */
  maximumRecordAgeSeconds: number;
  bisectBatchOnFunctionError: boolean;
  reportBatchItemFailures: boolean;
  tumblingWindowSeconds: number;
  /** Filter patterns (JSON strings), ORed. */
  filters: string[];
  onFailure?: OnFailureDestination;
  enabled: boolean;
  metricsEventCount: boolean;
}

/**
 * What a rule target receives, from the scheduled event: the event itself, a constant (`Input`), a
 * part of it (`InputPath`) or a template filled from its paths (`InputTransformer`).
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
export type ScheduleTargetInput =
  | { kind: 'event' }
  | { kind: 'constant'; value: unknown }
  | { kind: 'path'; path: string }
  | { kind: 'transformer'; paths: Record<string, string>; template: string };

/** A function a schedule invokes, with its qualifier if any (`live`). */
export interface ScheduleTarget {
  id: string;
  functionName: string;
  qualifier?: string;
  input: ScheduleTargetInput;
}

/** One enabled AWS::Events::Rule with a `rate(...)` schedule and the local functions it invokes. */
export interface LocalSchedule {
  logicalId: string;
  name: string;
  arn: string;
  /** The rule's rate, in milliseconds. */
  rateMs: number;
  targets: ScheduleTarget[];
}

export interface LocalApp {
  stackName: string;
  region: string;
  accountId: string;
  streams: LocalStream[];
  consumers: LocalStreamConsumer[];
  tables: LocalTable[];
  queues: LocalQueue[];
  buckets: LocalBucket[];
  functions: LocalFunction[];
  mappings: EventSourceMappingConfig[];
  schedules: LocalSchedule[];
  /** Resource types present in the template that the embedded stack does not run (reported once). */
  skipped: { logicalId: string; type: string }[];
}

/** An app with `app`'s identity (stack, region, account) and no resources. */
export function emptyApp(app: LocalApp): LocalApp {
  return {
    ...app,
    streams: [],
    consumers: [],
    tables: [],
    queues: [],
    buckets: [],
    functions: [],
    mappings: [],
    schedules: [],
    skipped: [],
  };
}

/** `app` with the resources of `added` appended to each of its lists. */
export function withAddedResources(app: LocalApp, added: LocalApp): LocalApp {
  return {
    ...app,
    streams: [...app.streams, ...added.streams],
    consumers: [...app.consumers, ...added.consumers],
    tables: [...app.tables, ...added.tables],
    queues: [...app.queues, ...added.queues],
    buckets: [...app.buckets, ...added.buckets],
    functions: [...app.functions, ...added.functions],
    mappings: [...app.mappings, ...added.mappings],
    schedules: [...app.schedules, ...added.schedules],
  };
}

/** What a function invocation returned, as the Lambda Invoke API reports it. */
export interface InvokeResult {
  /** The handler's return value (or error object when `functionError` is set). */
  payload: unknown;
  /** `Unhandled` when the handler threw, timed out or its process died (Lambda's `X-Amz-Function-Error`). */
  functionError?: 'Unhandled';
  executedVersion: string;
  durationMs: number;
}

/**
 * A crash or a timeout injected into one invocation, for resilience tests: `afterMs` after the
 * invocation starts, its execution environment is torn down while the handler runs, so what the
 * handler did before stays done and nothing after happens. If the handler answers sooner, the cut
 * comes as it answers and the answer is lost. A cut later than the function's own timeout never
 * comes: the timeout does.
 * - `timeout`: Lambda's `Sandbox.Timedout` answer, reported as a run of the whole configured
 *   timeout (the handler's context still shows the configured deadline: it stands for a handler
 *   that overran it);
 * - `kill`: the process is killed (`Runtime.ExitError`, `signal: killed`).
 */
export interface InvocationFault {
  readonly kind: 'timeout' | 'kill';
  /** When the cut comes, in ms after the invocation starts; 0: before the handler runs. Range 0 or more. */
  readonly afterMs: number;
}

/** Per-call options of an {@link Invoke}. */
export interface InvokeCallOptions {
  /** Ends this invocation early (fault injection for tests). @default - none */
  readonly fault?: InvocationFault;
}

/** Invokes a function by name and qualifier, synchronously (RequestResponse). */
export type Invoke = (
  functionName: string,
  qualifier: string | undefined,
  event: unknown,
  options?: InvokeCallOptions,
) => Promise<InvokeResult>;
