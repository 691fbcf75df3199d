import { ConfigurationError } from '../errors';
import type { JobContext, JobResult } from '../jobs';
import type { StreamRecord } from '../stream-record';
import { type Duration, toMillis } from './duration';
import { forEachLimit } from './limit';
import { keyOf, type StateItem, type StateTable } from './state-table';
import { type StatefulJob, statefulJob } from './stateful-job';

/** Options of {@link dedupe}. */
export interface DedupeOptions<T> {
  /** Records with the same key within `within` of each other are duplicates. */
  readonly key: (record: StreamRecord<T>) => string;
  /** How long a key is remembered after the record that claimed it, e.g. `'24h'`. */
  readonly within: Duration;
  /**
   * The time `within` is measured on: epoch ms, a Date or an ISO-8601 string.
   * @default - the record's arrival time in the stream
   */
  readonly eventTime?: (record: StreamRecord<T>) => number | Date | string;
}

/** The handler of {@link dedupe}: the records that are first for their key, in shard order. */
export type DedupeHandler<T> = (
  records: readonly StreamRecord<T>[],
  context: JobContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler written `async () => {}` must type-check
) => Promise<JobResult<T> | undefined | void> | JobResult<T> | undefined | void;

/** Who claimed a key: the record (its position) and its time. */
interface Claim {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | null;
  readonly time: number;
}

const CONCURRENCY = 16;
const ATTEMPTS = 8;
// Kept past `within` so that DynamoDB's lazy TTL never decides: expiry is checked on read.
const TTL_SLACK_SECONDS = 3600;

const toMillisOf = (time: number | Date | string): number =>
  typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time);

/**
 * Hands `handler` each key once within `within`, across every shard and invocation (Spark's
 * `dropDuplicatesWithinWatermark`). The first record of a key claims it with a conditional write;
 * a retry of that record passes again, any other record of the key within `within` does not.
 */
export function dedupe<T>(options: DedupeOptions<T>, handler: DedupeHandler<T>): StatefulJob<T> {
  const withinMs = toMillis(options.within, 'dedupe({ within })');
  const problems: string[] = [];
  if (typeof options.key !== 'function') problems.push('key must be a function');
  if (options.eventTime !== undefined && typeof options.eventTime !== 'function') {
    problems.push('eventTime must be a function');
  }
  if (typeof handler !== 'function') problems.push('the handler must be a function');
  if (problems.length > 0) throw new ConfigurationError(`dedupe: ${problems.join('; ')}`);
  const timeOf = (record: StreamRecord<T>): number => {
    const time = options.eventTime
      ? toMillisOf(options.eventTime(record))
      : record.arrivedAt.getTime();
    return Number.isFinite(time) ? time : record.arrivedAt.getTime();
  };
  const owns = (claim: Claim, record: StreamRecord<T>) =>
    claim.shardId === record.shardId &&
    claim.sequenceNumber === record.sequenceNumber &&
    claim.subSequenceNumber === (record.subSequenceNumber ?? null);

  return statefulJob<T>('dedupe', (services, job) => {
    const pkOf = (key: string) => `dd|${services.source}|${job}|${key}`;

    /** The records of one key that pass, after claiming the key if no live claim holds it. */
    async function settleKey(
      table: StateTable,
      key: string,
      records: readonly StreamRecord<T>[],
      found: StateItem | undefined,
      passed: Set<StreamRecord<T>>,
    ): Promise<void> {
      let item = found;
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        let claim = item?.body as Claim | undefined;
        let write: Claim | undefined;
        const passing: StreamRecord<T>[] = [];
        for (const record of records) {
          const time = timeOf(record);
          if (claim && owns(claim, record)) passing.push(record);
          else if (!claim || Math.abs(time - claim.time) >= withinMs) {
            claim = {
              shardId: record.shardId,
              sequenceNumber: record.sequenceNumber,
              subSequenceNumber: record.subSequenceNumber ?? null,
              time,
            };
            write = claim;
            passing.push(record);
          }
        }
        const stored =
          write === undefined ||
          (await table.put(
            {
              pk: pkOf(key),
              sk: 'claim',
              body: write,
              expiresAt: (write.time + withinMs) / 1000 + TTL_SLACK_SECONDS,
            },
            item?.version,
          ));
        if (stored) {
          for (const record of passing) passed.add(record);
          return;
        }
        item = (await table.get([{ pk: pkOf(key), sk: 'claim' }])).get(
          keyOf({ pk: pkOf(key), sk: 'claim' }),
        );
      }
      throw new Error(`dedupe claim of key ${key} kept changing under ${ATTEMPTS} attempts`);
    }

    return {
      async run(records, context) {
        const table = services.table();
        const byKey = new Map<string, StreamRecord<T>[]>();
        for (const record of records) {
          const key = options.key(record);
          const list = byKey.get(key) ?? [];
          list.push(record);
          byKey.set(key, list);
        }
        const keys = [...byKey.keys()];
        const items = await table.get(keys.map((key) => ({ pk: pkOf(key), sk: 'claim' })));
        const passed = new Set<StreamRecord<T>>();
        await forEachLimit(keys, CONCURRENCY, (key) =>
          settleKey(
            table,
            key,
            byKey.get(key) as StreamRecord<T>[],
            items.get(keyOf({ pk: pkOf(key), sk: 'claim' })),
            passed,
          ),
        );
        const first = records.filter((record) => passed.has(record));
        services.logger.info('dedupe', {
          job,
          batchId: context.batchId,
          records: records.length,
          passed: first.length,
          duplicates: records.length - first.length,
        });
        if (first.length === 0) return undefined;
        return (await handler(first, context)) ?? undefined;
      },
      // Claims expire by time; a tick has nothing to advance.
      async tick() {},
    };
  });
}
