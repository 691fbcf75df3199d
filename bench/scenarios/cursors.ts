// Cost of safety: records/s of microBatch with per-job cursors in DynamoDB (dynalite: one
// BatchGetItem per batch, one conditional UpdateItem per job per batch) against the same handler
// without cursors. Every invocation is a new batch (later sequence numbers), so no job is
// skipped: the cost measured is the cursor round trips alone.
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  type BatchResponse,
  dynamoCursors,
  json,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import { dynamoClient, startDynamo } from '../../emulator/index';
import { kinesisEvent, lambdaContext } from '../../test/fixtures/kinesis-events';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { pairedRatio, spread } from '../stats';
import { cell, checkIntegers, spreadChart, spreadJson } from './report';

export interface CursorsBenchmarkConfig {
  /** Records per batch. @default 500 */
  readonly batchSize: number;
  /** Batches per sample. @default 20 */
  readonly batches: number;
  /** Jobs in the handler (each keeps its own cursor). @default 2 */
  readonly jobs: number;
  /** @default 1 */
  readonly warmupRuns: number;
  /** @default 5 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const CURSORS_FULL: CursorsBenchmarkConfig = {
  batchSize: 500,
  batches: 20,
  jobs: 2,
  warmupRuns: 1,
  runs: 5,
};
export const CURSORS_QUICK: CursorsBenchmarkConfig = {
  batchSize: 20,
  batches: 2,
  jobs: 2,
  warmupRuns: 0,
  runs: 1,
};

export interface CursorsBenchmarkResult {
  readonly config: Omit<CursorsBenchmarkConfig, 'progress'>;
  readonly withRecordsPerSec: number[];
  readonly withoutRecordsPerSec: number[];
  /** Records every job saw, per variant (checks that no job was skipped). */
  readonly recordsSeen: { readonly with: number; readonly without: number };
}

const TABLE = 'bench-cursors';

export async function runCursorsBenchmark(
  config: CursorsBenchmarkConfig,
): Promise<CursorsBenchmarkResult> {
  checkIntegers(config, ['batchSize', 'batches', 'jobs', 'runs'], 1);
  checkIntegers(config, ['warmupRuns'], 0);
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const progress = config.progress ?? (() => undefined);
  const server = await startDynamo();
  const client = dynamoClient(server.endpoint);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: TABLE,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const seen = { with: 0, without: 0 };
    const handler = (variant: 'with' | 'without') =>
      microBatch({
        decode: json<{ readonly n: number }>(),
        deadLetters: memoryDeadLetters(),
        ...(variant === 'with'
          ? { cursors: dynamoCursors({ table: TABLE, functionName: 'bench', client }) }
          : {}),
        jobs: Object.fromEntries(
          Array.from({ length: config.jobs }, (_, j) => [
            `job${j + 1}`,
            ({ records }: { records: readonly unknown[] }) => {
              seen[variant] += records.length;
            },
          ]),
        ),
      });
    const handlers = { with: handler('with'), without: handler('without') };
    const context = lambdaContext({ remainingMs: 3_600_000 });
    let offset = 0;
    const sample = async (variant: 'with' | 'without'): Promise<number> => {
      // Build the batches first: only the handler is timed.
      const events = Array.from({ length: config.batches }, () => {
        const event = kinesisEvent(
          Array.from({ length: config.batchSize }, (_, n) => ({
            data: { n },
            partitionKey: `k${n}`,
          })),
          { start: offset },
        );
        offset += config.batchSize * 10;
        return event;
      });
      const started = performance.now();
      for (const event of events) {
        const response = (await handlers[variant](event, context)) as BatchResponse<never>;
        if (response.batchItemFailures.length > 0)
          throw new Error(`cursors ${variant}: a job failed`);
      }
      return (config.batches * config.batchSize) / ((performance.now() - started) / 1000);
    };
    const result = { withRecordsPerSec: [] as number[], withoutRecordsPerSec: [] as number[] };
    const total = config.warmupRuns + config.runs;
    for (let run = 0; run < total; run++) {
      const measuring = run >= config.warmupRuns;
      progress(
        `cursors: ${measuring ? `run ${run - config.warmupRuns + 1}/${config.runs}` : 'warm-up'}`,
      );
      const order = run % 2 === 0 ? (['with', 'without'] as const) : (['without', 'with'] as const);
      for (const variant of order) {
        const recordsPerSec = await sample(variant);
        if (measuring) result[`${variant}RecordsPerSec`].push(recordsPerSec);
      }
    }
    const expected = total * config.batches * config.batchSize * config.jobs;
    if (seen.with !== expected || seen.without !== expected) {
      throw new Error(
        `cursors: jobs saw ${seen.with} (with) and ${seen.without} (without) records, expected ${expected} each`,
      );
    }
    return {
      config: (({ progress: _, ...rest }) => rest)(config),
      ...result,
      recordsSeen: seen,
    };
  } finally {
    client.destroy();
    await server.stop();
  }
}

export function cursorsOutput(result: CursorsBenchmarkResult): ScenarioOutput {
  const m = machine();
  const ratio = pairedRatio(result.withRecordsPerSec, result.withoutRecordsPerSec);
  const med = (values: number[]) => Math.round(spread(values).median);
  return {
    summary: {
      withRecordsPerSec: med(result.withRecordsPerSec),
      withoutRecordsPerSec: med(result.withoutRecordsPerSec),
    },
    detail: {
      description:
        'microBatch records/s with per-job cursors in DynamoDB (dynalite) vs without, every batch new',
      machine: { ...m },
      config: { ...result.config },
      withRecordsPerSec: spreadJson(result.withRecordsPerSec, 0),
      withoutRecordsPerSec: spreadJson(result.withoutRecordsPerSec, 0),
      ratio: spreadJson(
        result.withRecordsPerSec.map((v, i) => v / (result.withoutRecordsPerSec[i] as number)),
        3,
      ),
    },
    table: {
      headers: ['variant', 'records/s median (min–max)', '× without'],
      rows: [
        ['without cursors', cell(result.withoutRecordsPerSec), '1.00'],
        [
          `with cursors (${result.config.jobs} jobs, DynamoDB)`,
          cell(result.withRecordsPerSec),
          ratio.median.toFixed(2),
        ],
      ],
    },
    notes: [
      `${result.config.batchSize}-record batches: cursors cost one BatchGetItem and ${result.config.jobs} UpdateItem calls per batch (dynalite on this machine; DynamoDB's own latency differs)`,
    ],
    charts: {
      'cursors.svg': spreadChart(
        'Cost of safety: per-job cursors',
        `${result.config.batchSize}-record batches, ${result.config.jobs} jobs, cursors in dynalite`,
        'records/s (higher is better)',
        [
          { label: 'without cursors', values: result.withoutRecordsPerSec, color: '#9e9e9e' },
          {
            label: 'with cursors',
            values: result.withRecordsPerSec,
            color: '#2e7d32',
            note: `${ratio.median.toFixed(2)}× without`,
          },
        ],
        m,
      ),
    },
  };
}

export const cursorsScenario: Scenario = {
  name: 'cursors',
  description: 'records/s with and without per-job cursors',
  async run(options) {
    const base = options.quick ? CURSORS_QUICK : CURSORS_FULL;
    return cursorsOutput(
      await runCursorsBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        ...(options.warmupRuns === undefined ? {} : { warmupRuns: options.warmupRuns }),
        progress: options.progress,
      }),
    );
  },
};
