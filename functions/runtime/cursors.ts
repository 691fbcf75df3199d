import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import { comparePositions, type RecordPosition } from '../kinesis/index';
import { ENVIRONMENT } from './environment';
import { ConfigurationError } from './errors';
import { REPLAY_CLIENT_CONTEXT } from './replay-context';

/**
 * Where per-job cursors live: for each (function, shard, job), the position of the last record
 * whose effects the job has committed. A retried batch hands each job only the records after its
 * cursor, so a job that already succeeded never repeats them.
 */
export interface CursorStore {
  /** The cursors of these jobs on this shard; a job without a cursor is absent from the map. */
  load(
    shardId: string,
    jobs: readonly string[],
    options?: CursorCallOptions,
  ): Promise<ReadonlyMap<string, RecordPosition>>;
  /**
   * Moves a job's cursor from `from` (what `load` returned, `undefined` for none) to `to`.
   * Resolves false when another invocation moved it first: the write is conditional, so two
   * invocations can never both advance it.
   */
  advance(
    shardId: string,
    job: string,
    from: RecordPosition | undefined,
    to: RecordPosition,
    batchId: string,
    options?: CursorCallOptions,
  ): Promise<boolean>;
}

/** What the runtime passes to each call of a {@link CursorStore}. */
export interface CursorCallOptions {
  /**
   * Aborted at the invocation's deadline; pass it to the store's requests (`abortSignal`). The
   * runtime stops waiting then either way and fails the records the call was for.
   */
  readonly signal?: AbortSignal;
}

/** The index of the first record after `cursor` (records are in shard order). */
export function firstIndexAfter(
  records: readonly RecordPosition[],
  cursor: RecordPosition | undefined,
): number {
  if (cursor === undefined) return 0;
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (comparePositions(records[middle] as RecordPosition, cursor) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

const encode = (position: RecordPosition): string =>
  position.subSequenceNumber === undefined
    ? position.sequenceNumber
    : `${position.sequenceNumber}.${position.subSequenceNumber}`;

function decode(encoded: string): RecordPosition {
  const [sequenceNumber, sub] = encoded.split('.');
  return {
    sequenceNumber: sequenceNumber as string,
    subSequenceNumber: sub === undefined ? undefined : Number(sub),
  };
}

/** Options of {@link dynamoCursors}. */
export interface DynamoCursorsOptions {
  /** Table with partition key `id` (string); `MicroBatchPipeline` creates it with `checkpoints: true`. */
  readonly table: string;
  /** Cursors are kept per function, so two functions reading one stream keep their own. */
  readonly functionName: string;
  /** @default - a client for the environment's region and endpoint */
  readonly client?: DynamoDB.DynamoDBClient;
}

/**
 * Cursors in DynamoDB: one BatchGetItem per batch and one conditional UpdateItem per job per
 * batch, never per record.
 */
export function dynamoCursors(options: DynamoCursorsOptions): CursorStore {
  // Loaded on first use; `require` because Lambda provides the SDK on NODE_PATH.
  const sdk = (): typeof DynamoDB => require('@aws-sdk/client-dynamodb');
  let client = options.client;
  const dynamo = () => {
    client ??= new (sdk().DynamoDBClient)({});
    return client;
  };
  const idOf = (shardId: string, job: string) => `${options.functionName}|${shardId}|${job}`;
  const missingTable = (error: unknown): never => {
    if ((error as { name?: string })?.name === 'ResourceNotFoundException') {
      throw new ConfigurationError(
        `checkpoint table "${options.table}" does not exist: deploy the pipeline with checkpoints: true, ` +
          `or unset ${ENVIRONMENT.checkpointTable}`,
      );
    }
    throw error;
  };

  return {
    async load(shardId, jobs, { signal } = {}) {
      const { BatchGetItemCommand } = sdk();
      let keys = jobs.map((job) => ({ id: { S: idOf(shardId, job) } }));
      const cursors = new Map<string, RecordPosition>();
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt === 3)
          throw new Error(`checkpoint table "${options.table}" left keys unprocessed three times`);
        const result = await dynamo()
          .send(
            new BatchGetItemCommand({
              RequestItems: { [options.table]: { Keys: keys, ConsistentRead: true } },
            }),
            { abortSignal: signal },
          )
          .catch(missingTable);
        for (const item of result.Responses?.[options.table] ?? []) {
          const job = item.id?.S?.split('|').pop();
          const position = item.position?.S;
          if (job !== undefined && position !== undefined) cursors.set(job, decode(position));
        }
        keys = (result.UnprocessedKeys?.[options.table]?.Keys ?? []) as typeof keys;
      }
      return cursors;
    },

    async advance(shardId, job, from, to, batchId, { signal } = {}) {
      const { UpdateItemCommand } = sdk();
      try {
        await dynamo().send(
          new UpdateItemCommand({
            TableName: options.table,
            Key: { id: { S: idOf(shardId, job) } },
            UpdateExpression: 'SET #position = :to, batchId = :batch, updatedAt = :now',
            ConditionExpression:
              from === undefined ? 'attribute_not_exists(id)' : '#position = :from',
            ExpressionAttributeNames: { '#position': 'position' },
            ExpressionAttributeValues: {
              ':to': { S: encode(to) },
              ':batch': { S: batchId },
              ':now': { S: new Date().toISOString() },
              ...(from === undefined ? {} : { ':from': { S: encode(from) } }),
            },
          }),
          { abortSignal: signal },
        );
        return true;
      } catch (error) {
        if ((error as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
        return missingTable(error);
      }
    },
  };
}

/** Cursors in memory, with the same conditional semantics; for tests and batch mode. */
export function memoryCursors(): CursorStore & { readonly cursors: Map<string, RecordPosition> } {
  const cursors = new Map<string, RecordPosition>();
  return {
    cursors,
    async load(shardId, jobs) {
      const found = new Map<string, RecordPosition>();
      for (const job of jobs) {
        const cursor = cursors.get(`${shardId}|${job}`);
        if (cursor) found.set(job, cursor);
      }
      return found;
    },
    async advance(shardId, job, from, to) {
      const key = `${shardId}|${job}`;
      const current = cursors.get(key);
      const unchanged =
        current === undefined
          ? from === undefined
          : from !== undefined && comparePositions(current, from) === 0;
      if (!unchanged) return false;
      cursors.set(key, to);
      return true;
    },
  };
}

/** The store the environment names (`DRIVERLESS_CHECKPOINT_TABLE`), if any. */
export function cursorsFromEnvironment(
  env: NodeJS.ProcessEnv,
  functionName: string | undefined,
): CursorStore | undefined {
  const table = env[ENVIRONMENT.checkpointTable];
  if (!table) return undefined;
  return dynamoCursors({ table, functionName: functionName ?? 'local' });
}

/**
 * Whether this invocation replays records on purpose (its client context is
 * {@link REPLAY_CLIENT_CONTEXT}). A replay must reach every job, even those whose cursor is past
 * the records, so it bypasses cursors: jobs see the records again and their idempotent writes
 * absorb what was already applied.
 */
export function isReplay(context: { clientContext?: unknown } | undefined): boolean {
  const custom = (context?.clientContext as { custom?: Record<string, unknown> } | undefined)
    ?.custom;
  return custom?.driverlessRedrive === REPLAY_CLIENT_CONTEXT.custom.driverlessRedrive;
}
