/**
 * kinesalite's GetShardIterator for `AT_TIMESTAMP` scans the shard for the first record that
 * arrived at or after the timestamp and answers only when it finds one: for a timestamp after the
 * shard's last record the request never gets an answer. AWS answers with an iterator there, whose
 * first GetRecords page is empty (MillisBehindLatest 0 on an open shard) and whose later pages
 * hold the records put after it.
 * @see https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html
 *
 * This replaces kinesalite's action (before kinesalite is loaded) with one that asks the original
 * whenever a record at or after the timestamp exists (or the request is not one it would hang on)
 * and otherwise answers with an iterator at the shard's next sequence number: every record put
 * later arrives after the timestamp (kinesalite refuses timestamps in the future), and kinesalite
 * orders a shard's records by that number.
 *
 * Erasable TypeScript and no project imports: the server child (`server-main.mts`) loads this file
 * directly under Node's type stripping.
 */

type Callback = (error: unknown, answer?: unknown) => void;
type Action = (store: KinesaliteStore, data: ShardIteratorRequest, cb: Callback) => void;

interface ShardIteratorRequest {
  readonly StreamName: string;
  readonly ShardId: string;
  readonly ShardIteratorType: string;
  /** Seconds since the epoch, as the JSON protocol sends it. */
  readonly Timestamp?: number;
}

interface KinesaliteStream {
  readonly Shards: ReadonlyArray<{
    readonly SequenceNumberRange: { readonly StartingSequenceNumber: string };
  }>;
  /** The next sequence index of each group of five shards (kinesalite's own counter). */
  readonly _seqIx: readonly (number | string)[];
}

interface KinesaliteStore {
  getStream(name: string, cb: (error: unknown, stream?: KinesaliteStream) => void): void;
  getStreamDb(name: string): {
    createReadStream(options: { gt: string; lt: string }): NodeJS.ReadableStream & {
      destroy(): void;
    };
  };
}

interface KinesaliteDb {
  resolveShardId(id: string): { shardId: string; shardIx: number };
  shardIxToHex(shardIx: number): string;
  parseSequence(sequence: string): { shardCreateTime: number; shardIx: number };
  stringifySequence(sequence: {
    shardCreateTime: number;
    seqIx: number | string;
    seqTime: number;
    shardIx: number;
  }): string;
  createShardIterator(streamName: string, shardId: string, sequence: string): string;
}

/**
 * Installs the answering `GetShardIterator` in `load`'s module cache. Must run before `kinesalite`
 * is first loaded in the process, which takes its actions once, when it loads.
 */
export function answerAtTimestampPastTheTip(load: NodeJS.Require): void {
  if (load.cache[load.resolve('kinesalite')]) {
    throw new Error('kinesalite is already loaded: its GetShardIterator can no longer be replaced');
  }
  const actionPath = load.resolve('kinesalite/actions/getShardIterator');
  const original = load(actionPath) as Action;
  const db = load('kinesalite/db') as KinesaliteDb;
  const cached = load.cache[actionPath];
  if (!cached) throw new Error(`kinesalite's ${actionPath} is not in the module cache`);

  const getShardIterator: Action = function getShardIterator(store, data, cb) {
    const timestamp = data.Timestamp;
    if (data.ShardIteratorType !== 'AT_TIMESTAMP' || typeof timestamp !== 'number') {
      return original(store, data, cb);
    }
    let shard: { shardId: string; shardIx: number };
    try {
      shard = db.resolveShardId(data.ShardId);
    } catch {
      return original(store, data, cb);
    }
    // Read before the scan: a record put during or after it gets this index or a later one.
    store.getStream(data.StreamName, (error, stream) => {
      const starting = stream?.Shards[shard.shardIx]?.SequenceNumberRange.StartingSequenceNumber;
      // Unknown streams and shards, and timestamps in the future: the original's errors.
      if (error || !stream || !starting || timestamp * 1000 > Date.now()) {
        return original(store, data, cb);
      }
      const seqIx = stream._seqIx[Math.floor(shard.shardIx / 5)] ?? 0;
      const records = store.getStreamDb(data.StreamName).createReadStream({
        gt: db.shardIxToHex(shard.shardIx),
        lt: db.shardIxToHex(shard.shardIx + 1),
      });
      let settled = false;
      const settle = (answer: () => void) => {
        if (settled) return;
        settled = true;
        records.destroy();
        answer();
      };
      records.on('data', (item: { value: { ApproximateArrivalTimestamp: number } }) => {
        if (item.value.ApproximateArrivalTimestamp >= timestamp) {
          settle(() => original(store, data, cb));
        }
      });
      records.on('error', () => settle(() => original(store, data, cb)));
      records.on('end', () =>
        settle(() => {
          const shardStart = db.parseSequence(starting);
          const next = db.stringifySequence({
            shardCreateTime: shardStart.shardCreateTime,
            seqIx,
            seqTime: timestamp * 1000,
            shardIx: shardStart.shardIx,
          });
          cb(null, {
            ShardIterator: db.createShardIterator(data.StreamName, shard.shardId, next),
          });
        }),
      );
    });
  };
  cached.exports = getShardIterator;
}
