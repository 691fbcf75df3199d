import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent } from '../functions/kinesis/index';
import type { DeadLetter } from '../functions/runtime/index';
import type { TestRecord } from './kinesis-events';

/** A record to put: as in events, without `arrivedAt` (Kinesis stamps the arrival). */
export type PutRecord = Omit<TestRecord, 'arrivedAt'>;

/** Where Kinesis put a record. */
export interface PutResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Base URLs of the services the pipeline runs on. */
export interface LocalEndpoints {
  readonly kinesis: string;
  readonly dynamodb: string;
  readonly sqs: string;
  readonly s3: string;
  readonly lambda: string;
}

/**
 * SDK v3 clients for the pipeline's services, configured for them (endpoint, region, credentials).
 * Yours to use in assertions; `stop()` destroys them.
 */
export interface LocalClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  /** Over `dynamodb`, with `removeUndefinedValues`. */
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
}

/** A resource of the app, by its physical name on the target and its logical ID in the template. */
export interface LocalResource {
  readonly name: string;
  /** Unknown on LocalStack, where resources are found through the APIs. */
  readonly logicalId: string | undefined;
}

/** A function of the app. */
export interface LocalFunctionResource extends LocalResource {
  /** `DRIVERLESS_SOURCE` of a pipeline function. */
  readonly source: string | undefined;
  /** The streams its event source mappings read. */
  readonly streams: readonly string[];
  /** Its environment as the template sets it (`DRIVERLESS_JOBS`, the tables it writes, …). */
  readonly environment: Readonly<Record<string, string>>;
}

/** What the app runs, by kind. */
export interface LocalResources {
  readonly streams: readonly LocalResource[];
  readonly tables: readonly LocalResource[];
  readonly queues: readonly LocalResource[];
  readonly buckets: readonly LocalResource[];
  readonly functions: readonly LocalFunctionResource[];
}

/** What one event source mapping did with the records put through {@link LocalPipeline.put}. */
export interface MappingDrain {
  /** The mapping's logical ID. */
  readonly mapping: string;
  readonly stream: string;
  /** The function it invokes, with its qualifier (`name:live`). */
  readonly function: string;
  /** Records the function succeeded with (dead-lettered ones included: the runtime reports them done). */
  readonly processed: number;
  /** Records the mapping's filters left out. */
  readonly filteredOut: number;
  /** Records the mapping gave up on after its retries (sent to its on-failure destination, if any). */
  readonly discarded: number;
}

/** Options of {@link LocalPipeline.drained}. */
export interface DrainedOptions {
  /** How long to wait before failing with what is behind. @default 30000 */
  readonly timeoutMs?: number;
}

/** One invocation a mapping made. */
export interface RecordedInvocation {
  /** The function's name. */
  readonly functionName: string;
  /** The version that ran (`$LATEST` or a number). */
  readonly version: string;
  readonly event: KinesisEvent;
  /** What the function returned; `undefined` when it failed. */
  readonly response: unknown;
  /** Lambda's error object when it failed (threw, timed out, was killed). */
  readonly error: { readonly errorType: string; readonly errorMessage: string } | undefined;
  readonly durationMs: number;
  /** The fault that made it fail, when {@link LocalPipeline.faults} injected one. */
  readonly fault: FunctionFault['kind'] | undefined;
  /** The lines the function wrote during the invocation. */
  readonly logs: readonly string[];
}

/**
 * A fault for a function's next `times` invocations by its event source mappings:
 * - `throw`: the handler is not run; Lambda's answer for a handler that threw `message`;
 * - `timeout`: the invocation is cut `afterMs` after it starts, as Lambda cuts one at its
 *   timeout: the execution environment is torn down while the handler runs, so what it wrote
 *   before stays written and nothing after happens; the mapping gets Lambda's timeout error
 *   (`Sandbox.Timedout`, reported as a run of the function's whole timeout);
 * - `kill`: the same cut, as a crash: the function's process is killed (`Runtime.ExitError`).
 *
 * If the handler answers before `afterMs`, the cut comes as it answers and its answer is lost
 * (work done, answer never delivered); past the function's own timeout, that timeout comes first.
 * Either way the mapping retries the batch, so a handler's writes must bear being repeated.
 */
export interface FunctionFault {
  readonly kind: 'throw' | 'timeout' | 'kill';
  /** Invocations to fail, from the next one; range 1 or more. @default 1 */
  readonly times?: number;
  /** The error message of `throw`. @default 'injected fault' */
  readonly message?: string;
  /**
   * `timeout` and `kill`: when the cut comes, in ms after the invocation starts. Range 0 or more.
   * @default 0 (before the handler runs: none of it runs)
   */
  readonly afterMs?: number;
}

/** A fault for a table, as every function of the app sees it (your own clients are not affected). */
export type TableFault =
  /** Every request naming the table gets a 500 (`InternalServerError`); SDKs retry, then fail. */
  | { readonly kind: 'fail' }
  /** Every request naming the table is held `delayMs` before it goes on. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Removes the table's fault. */
  | { readonly kind: 'none' };

/** Faults for resilience tests. Embedded target only. */
export interface LocalFaults {
  /** @param name the function's name or logical ID, or a source name (all of its functions) */
  function(name: string, fault: FunctionFault): void;
  /** @param name the table's name or logical ID */
  table(name: string, fault: TableFault): void;
  /** Removes every fault. */
  clear(): void;
}

/** A pipeline running for a test; see `startLocal`. */
export interface LocalPipeline {
  readonly target: 'embedded' | 'localstack';
  readonly endpoints: LocalEndpoints;
  readonly clients: LocalClients;
  readonly resources: LocalResources;
  /**
   * Puts records into a stream with PutRecords, in order, and records where each landed.
   * @param sourceOrStream a stream name, or a source whose function reads the stream
   */
  put(sourceOrStream: string, records: readonly PutRecord[]): Promise<PutResult[]>;
  /**
   * Resolves once every record put through {@link put} is done for every mapping that reads its
   * stream: processed (dead-lettered ones included), filtered out, or discarded after retries.
   * Rejects after `timeoutMs`, naming each mapping that is behind, by how many records, and its
   * last failure. Embedded target only.
   */
  drained(options?: DrainedOptions): Promise<MappingDrain[]>;
  /**
   * The dead letters of a source (or function) so far, read from its dead-letter queue (letters
   * too large for a message are read back from the bucket) or bucket. Letters read from a queue
   * are deleted from it and kept by this object, so each call returns every letter seen.
   */
  deadLetters(source: string): Promise<DeadLetter[]>;
  /**
   * The invocations the mappings made of a function, in order.
   * @param name the function's name or logical ID, or a source name (all of its functions)
   */
  invocations(name: string): RecordedInvocation[];
  readonly faults: LocalFaults;
  /**
   * Stops everything started, leaving no process or port behind; safe to call more than once.
   * Call it in `afterAll`; a process that exits without it still kills what it started.
   */
  stop(): Promise<void>;
}
