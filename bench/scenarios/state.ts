// Cost of keyed event-time state: an aggregate job (per-key, per-minute count and sum, state in
// DynamoDB on dynalite) against a stateless job doing the same arithmetic in memory, at several
// batch sizes; and the state table calls per batch, which must follow the (key, window) pairs a
// batch touches, not its records.
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  aggregate,
  type BatchResponse,
  dynamoStateTable,
  json,
  memoryDeadLetters,
  microBatch,
  type StateTable,
  tumbling,
} from 'driverless/runtime';
import { dynamoClient, startDynamo } from '../../emulator/index';
import { kinesisEvent, lambdaContext } from '../../test/fixtures/kinesis-events';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { spread } from '../stats';
import { cell, checkIntegers, spreadJson } from './report';

export interface StateBenchmarkConfig {
  /** Records per batch, one measurement each. @default [10, 100, 500] */
  readonly batchSizes: readonly number[];
  /** Distinct keys among the records. @default 20 */
  readonly keys: number;
  /** Batches per sample. @default 20 */
  readonly batches: number;
  /** @default 3 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const STATE_FULL: StateBenchmarkConfig = {
  batchSizes: [10, 100, 500],
  keys: 20,
  batches: 20,
  runs: 3,
};
export const STATE_QUICK: StateBenchmarkConfig = {
  batchSizes: [10, 100],
  keys: 20,
  batches: 4,
  runs: 1,
};

export interface StateRow {
  readonly batchSize: number;
  readonly statefulRecordsPerSec: number[];
  readonly statelessRecordsPerSec: number[];
  readonly readsPerBatch: number;
  readonly writesPerBatch: number;
  /** Per emitted window: ms from the start of the invocation whose watermark made it due to emit(). */
  readonly emitDelayMs: number[];
}

type Data = { readonly key: string; readonly ts: number; readonly v: number };
type Sums = { count: number; sum: number };

/** Counts the state table's calls (each a request to DynamoDB). */
function counting(inner: StateTable) {
  const counts = { reads: 0, writes: 0 };
  const table: StateTable = {
    query: (...args) => {
      counts.reads++;
      return inner.query(...args);
    },
    get: (...args) => {
      counts.reads++;
      return inner.get(...args);
    },
    put: (...args) => {
      counts.writes++;
      return inner.put(...args);
    },
    delete: (...args) => {
      counts.writes++;
      return inner.delete(...args);
    },
  };
  return { table, counts };
}

export async function runStateBenchmark(config: StateBenchmarkConfig): Promise<StateRow[]> {
  checkIntegers(config, ['keys', 'batches', 'runs'], 1);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const progress = config.progress ?? (() => undefined);
  const server = await startDynamo();
  const client = dynamoClient(server.endpoint);
  const rows: StateRow[] = [];
  try {
    for (const [index, batchSize] of config.batchSizes.entries()) {
      const tableName = `bench-state-${index}`;
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          AttributeDefinitions: [
            { AttributeName: 'pk', AttributeType: 'S' },
            { AttributeName: 'sk', AttributeType: 'S' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      const { table, counts } = counting(dynamoStateTable({ table: tableName, client }));
      let emitted = 0;
      // When the invocation in flight began: an emission's delay is measured from it, since the
      // watermark that makes a window due is computed by the batch that moves it.
      let invokedAt = 0;
      const delays: number[] = [];
      const stateful = microBatch({
        decode: json<Data>(),
        deadLetters: memoryDeadLetters(),
        state: table,
        jobs: {
          sums: aggregate<Data, Sums>({
            key: (r) => r.data.key,
            eventTime: (r) => r.data.ts,
            window: tumbling('1m'),
            init: () => ({ count: 0, sum: 0 }),
            add: (acc, r) => ({ count: acc.count + 1, sum: acc.sum + r.data.v }),
            merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
            emit: () => {
              emitted++;
              delays.push(performance.now() - invokedAt);
            },
          }),
        },
      });
      // The same arithmetic, per key and minute, kept in this process only.
      const memory = new Map<string, Sums>();
      const stateless = microBatch({
        decode: json<Data>(),
        deadLetters: memoryDeadLetters(),
        jobs: {
          sums: ({ records }) => {
            for (const r of records) {
              const id = `${r.data.key}|${Math.floor(r.data.ts / 60_000)}`;
              const acc = memory.get(id) ?? { count: 0, sum: 0 };
              memory.set(id, { count: acc.count + 1, sum: acc.sum + r.data.v });
            }
          },
        },
      });
      const context = lambdaContext({ remainingMs: 3_600_000 });
      let offset = 0;
      let clock = 1_800_000_000_000;
      const events = () =>
        Array.from({ length: config.batches }, () => {
          const event = kinesisEvent(
            Array.from({ length: batchSize }, (_, n) => {
              // Every batch covers 15 s of event time, whatever its size: a window closes every 4.
              clock += Math.ceil(15_000 / batchSize);
              return { data: { key: `k${(offset + n) % config.keys}`, ts: clock, v: n } };
            }),
            { start: offset },
          );
          offset += batchSize * 10;
          return event;
        });
      const sample = async (handler: typeof stateful): Promise<number> => {
        const batch = events();
        const started = performance.now();
        for (const event of batch) {
          invokedAt = performance.now();
          const response = (await handler(event, context)) as BatchResponse<never>;
          if (response.batchItemFailures.length > 0) throw new Error('state: a batch failed');
        }
        return (config.batches * batchSize) / ((performance.now() - started) / 1000);
      };
      const row = { statefulRecordsPerSec: [] as number[], statelessRecordsPerSec: [] as number[] };
      let statefulBatches = 0;
      for (let run = 0; run < config.runs; run++) {
        progress(`state: ${batchSize}-record batches, run ${run + 1}/${config.runs}`);
        row.statelessRecordsPerSec.push(await sample(stateless));
        row.statefulRecordsPerSec.push(await sample(stateful));
        statefulBatches += config.batches;
      }
      if (emitted === 0) throw new Error('state: no window was emitted');
      rows.push({
        batchSize,
        ...row,
        readsPerBatch: counts.reads / statefulBatches,
        writesPerBatch: counts.writes / statefulBatches,
        emitDelayMs: delays,
      });
    }
    return rows;
  } finally {
    client.destroy();
    await server.stop();
  }
}

export function stateOutput(
  rows: readonly StateRow[],
  config: StateBenchmarkConfig,
): ScenarioOutput {
  const m = machine();
  const med = (values: number[]) => Math.round(spread(values).median);
  return {
    summary: Object.fromEntries(
      rows.map((row) => [
        `batch${row.batchSize}`,
        {
          statefulRecordsPerSec: med(row.statefulRecordsPerSec),
          statelessRecordsPerSec: med(row.statelessRecordsPerSec),
          readsPerBatch: Math.round(row.readsPerBatch * 10) / 10,
          writesPerBatch: Math.round(row.writesPerBatch * 10) / 10,
          emitDelayMs: Math.round(spread(row.emitDelayMs).median),
        },
      ]),
    ),
    detail: {
      description:
        'aggregate job (per-key per-minute sums, state in dynalite) vs a stateless job doing the same arithmetic in memory; state table calls per batch',
      machine: { ...m },
      config: {
        batchSizes: [...config.batchSizes],
        keys: config.keys,
        batches: config.batches,
        runs: config.runs,
      },
      rows: rows.map((row) => ({
        batchSize: row.batchSize,
        statefulRecordsPerSec: spreadJson(row.statefulRecordsPerSec, 0),
        statelessRecordsPerSec: spreadJson(row.statelessRecordsPerSec, 0),
        readsPerBatch: Math.round(row.readsPerBatch * 10) / 10,
        writesPerBatch: Math.round(row.writesPerBatch * 10) / 10,
        emitDelayMs: spreadJson(row.emitDelayMs, 1),
      })),
    },
    table: {
      headers: [
        'records/batch',
        'state reads/batch',
        'state writes/batch',
        'aggregate records/s',
        'stateless records/s',
        'emit delay ms',
      ],
      rows: rows.map((row) => [
        String(row.batchSize),
        row.readsPerBatch.toFixed(1),
        row.writesPerBatch.toFixed(1),
        cell(row.statefulRecordsPerSec),
        cell(row.statelessRecordsPerSec),
        cell(row.emitDelayMs),
      ]),
    },
    notes: [
      `${config.keys} keys, tumbling 1-minute windows, 15 s of event time per batch: writes follow the (key, window) pairs a batch touches (at most ${config.keys} per minute), not its records`,
      'emit delay: from the start of the invocation whose records move the watermark past a window to its emit() call (in streaming; a quiet stream adds idleShardAfter and the tick interval, docs/state.md)',
      'reads: one Query of shard progress, one BatchGet per 100 window items, one Query of due windows; writes include emissions (claim, mark, due-entry delete)',
    ],
    charts: {},
  };
}

export const stateScenario: Scenario = {
  name: 'state',
  description: 'aggregate job vs stateless job, and state reads/writes per batch',
  async run(options) {
    const base = options.quick ? STATE_QUICK : STATE_FULL;
    const config = {
      ...base,
      ...(options.runs === undefined ? {} : { runs: options.runs }),
      progress: options.progress,
    };
    return stateOutput(await runStateBenchmark(config), config);
  },
};
