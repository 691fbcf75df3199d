import type * as DynamoDB from '@aws-sdk/client-dynamodb';
import { ENVIRONMENT } from '../environment';
import { ConfigurationError } from '../errors';

/** The key of a state item: the table's partition key `pk` and sort key `sk`. */
export interface StateKey {
  readonly pk: string;
  readonly sk: string;
}

/** A state item: its key, a version bumped by every write, a JSON body and an optional TTL. */
export interface StateItem extends StateKey {
  readonly version: number;
  readonly body: unknown;
  /** Epoch seconds after which DynamoDB may delete the item (attribute `expiresAt`). */
  readonly expiresAt?: number;
}

/** What a write stores; the table sets the version. */
export interface StateWrite extends StateKey {
  readonly body: unknown;
  readonly expiresAt?: number;
}

/**
 * The keyed state of stateful jobs: single-item conditional writes on a version, BatchGet and
 * Query only, all reads strongly consistent. No transactions, so every multi-item change is
 * written so that a process killed between two writes leaves a state the next attempt completes.
 */
export interface StateTable {
  /** Items of partition `pk`, in sort-key order; only those with `sk < below` when given. */
  query(pk: string, options?: { readonly below?: string }): Promise<StateItem[]>;
  /** The items that exist among `keys`, by {@link keyOf}. */
  get(keys: readonly StateKey[]): Promise<Map<string, StateItem>>;
  /**
   * Writes `item` if its stored version is `expected` (`undefined`: the item must not exist;
   * `'any'`: unconditionally). Resolves false when the condition failed.
   */
  put(item: StateWrite, expected: number | undefined | 'any'): Promise<boolean>;
  delete(key: StateKey): Promise<void>;
}

/** The map key of an item in {@link StateTable.get}'s answer. */
export const keyOf = (key: StateKey): string => `${key.pk}\u0000${key.sk}`;

/** Options of {@link dynamoStateTable}. */
export interface DynamoStateTableOptions {
  /** Table with partition key `pk` and sort key `sk` (strings); the pipeline's `state: true` creates it. */
  readonly table: string;
  /** @default - a client for the environment's region and endpoint */
  readonly client?: DynamoDB.DynamoDBClient;
}

// BatchGetItem takes at most 100 keys per call.
const BATCH_GET_LIMIT = 100;

/** State in a DynamoDB table (the pipeline's state table). */
export function dynamoStateTable(options: DynamoStateTableOptions): StateTable {
  // Loaded on first use; `require` because Lambda provides the SDK on NODE_PATH.
  const sdk = (): typeof DynamoDB => require('@aws-sdk/client-dynamodb');
  let client = options.client;
  const dynamo = () => {
    client ??= new (sdk().DynamoDBClient)({});
    return client;
  };
  const TableName = options.table;
  const missingTable = (error: unknown): never => {
    if ((error as { name?: string })?.name === 'ResourceNotFoundException') {
      throw new ConfigurationError(
        `state table "${TableName}" does not exist: deploy the pipeline with state: true, or set ${ENVIRONMENT.stateTable} to an existing table`,
      );
    }
    throw error;
  };
  const fromAttributes = (raw: Record<string, DynamoDB.AttributeValue>): StateItem => ({
    pk: raw.pk?.S ?? '',
    sk: raw.sk?.S ?? '',
    version: Number(raw.ver?.N ?? '0'),
    body: JSON.parse(raw.body?.S ?? 'null'),
    ...(raw.expiresAt?.N === undefined ? {} : { expiresAt: Number(raw.expiresAt.N) }),
  });

  return {
    async query(pk, queryOptions) {
      const { QueryCommand } = sdk();
      const items: StateItem[] = [];
      let start: Record<string, DynamoDB.AttributeValue> | undefined;
      do {
        const below = queryOptions?.below;
        const page = await dynamo()
          .send(
            new QueryCommand({
              TableName,
              ConsistentRead: true,
              KeyConditionExpression: below === undefined ? 'pk = :pk' : 'pk = :pk AND sk < :below',
              ExpressionAttributeValues: {
                ':pk': { S: pk },
                ...(below === undefined ? {} : { ':below': { S: below } }),
              },
              ...(start === undefined ? {} : { ExclusiveStartKey: start }),
            }),
          )
          .catch(missingTable);
        for (const raw of page.Items ?? []) items.push(fromAttributes(raw));
        start = page.LastEvaluatedKey;
      } while (start !== undefined);
      return items;
    },

    async get(keys) {
      const { BatchGetItemCommand } = sdk();
      const found = new Map<string, StateItem>();
      const unique = [...new Map(keys.map((key) => [keyOf(key), key])).values()];
      for (let offset = 0; offset < unique.length; offset += BATCH_GET_LIMIT) {
        let pending = unique
          .slice(offset, offset + BATCH_GET_LIMIT)
          .map((key) => ({ pk: { S: key.pk }, sk: { S: key.sk } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt === 5) {
            throw new Error(`state table "${TableName}" left keys unprocessed five times`);
          }
          const result = await dynamo()
            .send(
              new BatchGetItemCommand({
                RequestItems: { [TableName]: { Keys: pending, ConsistentRead: true } },
              }),
            )
            .catch(missingTable);
          for (const raw of result.Responses?.[TableName] ?? []) {
            const item = fromAttributes(raw);
            found.set(keyOf(item), item);
          }
          pending = (result.UnprocessedKeys?.[TableName]?.Keys ?? []) as typeof pending;
        }
      }
      return found;
    },

    async put(item, expected) {
      const { UpdateItemCommand } = sdk();
      const ttl = item.expiresAt === undefined ? '' : ', expiresAt = :ttl';
      const condition =
        expected === 'any'
          ? undefined
          : expected === undefined
            ? 'attribute_not_exists(pk)'
            : 'ver = :expected';
      try {
        await dynamo().send(
          new UpdateItemCommand({
            TableName,
            Key: { pk: { S: item.pk }, sk: { S: item.sk } },
            UpdateExpression: `SET body = :body${ttl} ADD ver :one`,
            ...(condition === undefined ? {} : { ConditionExpression: condition }),
            ExpressionAttributeValues: {
              ':body': { S: JSON.stringify(item.body) },
              ':one': { N: '1' },
              ...(item.expiresAt === undefined
                ? {}
                : { ':ttl': { N: String(Math.ceil(item.expiresAt)) } }),
              ...(typeof expected === 'number' ? { ':expected': { N: String(expected) } } : {}),
            },
          }),
        );
        return true;
      } catch (error) {
        if ((error as { name?: string })?.name === 'ConditionalCheckFailedException') return false;
        return missingTable(error);
      }
    },

    async delete(key) {
      const { DeleteItemCommand } = sdk();
      await dynamo()
        .send(new DeleteItemCommand({ TableName, Key: { pk: { S: key.pk }, sk: { S: key.sk } } }))
        .catch(missingTable);
    },
  };
}

/**
 * State in memory with the same conditional semantics, for tests and batch mode
 * (`DRIVERLESS_STATE_TABLE=memory:`). Bodies are copied through JSON, as DynamoDB would.
 */
export function memoryStateTable(): StateTable {
  const items = new Map<string, StateItem>();
  const copy = (item: StateItem): StateItem => ({
    ...item,
    body: JSON.parse(JSON.stringify(item.body)),
  });
  return {
    async query(pk, options) {
      const below = options?.below;
      return [...items.values()]
        .filter((item) => item.pk === pk && (below === undefined || item.sk < below))
        .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
        .map(copy);
    },
    async get(keys) {
      const found = new Map<string, StateItem>();
      for (const key of keys) {
        const item = items.get(keyOf(key));
        if (item) found.set(keyOf(key), copy(item));
      }
      return found;
    },
    async put(item, expected) {
      const current = items.get(keyOf(item));
      if (expected !== 'any' && current?.version !== expected) return false;
      items.set(keyOf(item), {
        pk: item.pk,
        sk: item.sk,
        version: (current?.version ?? 0) + 1,
        body: JSON.parse(JSON.stringify(item.body)),
        ...(item.expiresAt === undefined ? {} : { expiresAt: item.expiresAt }),
      });
      return true;
    },
    async delete(key) {
      items.delete(keyOf(key));
    },
  };
}

// One memory table per name for the life of the process, so every handler of a `driverless run`
// shares it, as functions of a pipeline share the DynamoDB table.
const memoryTables = new Map<string, StateTable>();
const MEMORY_PREFIX = 'memory:';

/**
 * The table `DRIVERLESS_STATE_TABLE` names: a DynamoDB table, or `memory:<name>` for state in
 * this process. Throws a ConfigurationError naming the construct prop when it is unset.
 */
export function stateTableFromEnvironment(env: NodeJS.ProcessEnv): StateTable {
  const name = env[ENVIRONMENT.stateTable];
  if (!name) {
    throw new ConfigurationError(
      `this handler has stateful jobs (aggregate, dedupe, streamJoin) but ${ENVIRONMENT.stateTable} is not set: ` +
        'deploy the pipeline with state: true (or set it per source), or set the variable to a table name or to "memory:" for state in this process',
    );
  }
  if (name.startsWith(MEMORY_PREFIX)) {
    let table = memoryTables.get(name);
    if (!table) {
      table = memoryStateTable();
      memoryTables.set(name, table);
    }
    return table;
  }
  return dynamoStateTable({ table: name });
}
