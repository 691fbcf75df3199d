import { aggregate, json, microBatch, type StreamRecord, sliding } from 'driverless/runtime';
import { conversions } from './retail/conversions';
import { minuteOf, ProductView } from './retail/events';
import { addViews, forEachLimited, putTrending, recordView } from './retail/tables';

type View = StreamRecord<ProductView>;

/** The latest time each user viewed each product in the batch. */
function latestViews(
  records: readonly View[],
): Map<string, { userId: string; productId: string; ts: number }> {
  const latest = new Map<string, { userId: string; productId: string; ts: number }>();
  for (const { data } of records) {
    const key = `${data.userId}\u0000${data.productId}`;
    const seen = latest.get(key);
    if (!seen || seen.ts < data.ts) latest.set(key, data);
  }
  return latest;
}

/** Sequence numbers of each product's views, per minute, in shard order. */
function viewsPerProductMinute(
  records: readonly View[],
): Map<string, { productId: string; minute: string; sequenceNumbers: string[] }> {
  const counts = new Map<
    string,
    { productId: string; minute: string; sequenceNumbers: string[] }
  >();
  for (const record of records) {
    const minute = minuteOf(record.data.ts);
    const key = `${record.data.productId}\u0000${minute}`;
    let entry = counts.get(key);
    if (!entry) {
      entry = { productId: record.data.productId, minute, sequenceNumbers: [] };
      counts.set(key, entry);
    }
    entry.sequenceNumbers.push(record.sequenceNumber);
  }
  return counts;
}

/**
 * Product views → recommendations (each user's recently viewed products), popularity (views per
 * product per minute), trending (views per product over the last 10 minutes, every minute, on the
 * views' own time) and conversions (whether the same user ordered the product within 30 minutes
 * of viewing it). The jobs run concurrently over one decode of the batch; `popularity` runs in a
 * function of its own in the example stack (`isolateJobs`). `trending` and `conversions` keep
 * their state in the pipeline's state table (`state: true`).
 */
export const handler = microBatch({
  decode: json(ProductView),
  stages: { latestViews, viewsPerProductMinute },
  jobs: {
    recommendations: async ({ latestViews }, { signal }) => {
      await forEachLimited(latestViews.values(), 16, (view) =>
        recordView(view.userId, view.productId, view.ts, signal),
      );
    },
    popularity: async ({ viewsPerProductMinute }, { shardId, signal }) => {
      await forEachLimited(viewsPerProductMinute.values(), 16, (entry) =>
        addViews(entry.productId, entry.minute, shardId, entry.sequenceNumbers, signal),
      );
    },
    trending: aggregate({
      key: (view) => view.data.productId,
      eventTime: (view) => view.data.ts,
      window: sliding({ size: '10m', every: '1m' }),
      watermark: { allowedLateness: '2m', idleShardAfter: '1m' },
      init: () => ({ views: 0 }),
      add: (acc) => ({ views: acc.views + 1 }),
      merge: (a, b) => ({ views: a.views + b.views }),
      late: 'dead-letter',
      // Once per closed (product, window), with its final value.
      emit: ({ key, end, value }) => putTrending(key, new Date(end), value.views),
    }),
    // The views side of the join (retail/conversions.ts).
    conversions: conversions.left,
  },
});
