import type { TestRecord } from './kinesis-events';

/** One user record inside a KPL aggregate. */
export interface AggregatedRecord {
  /** As {@link TestRecord.data}: bytes as is, a string as UTF-8, anything else as JSON. */
  readonly data: unknown;
  /** @default - the record's index in the aggregate, as a string */
  readonly partitionKey?: string;
}

interface EncodedRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
}

interface RecordAggregator {
  addUserRecord(record: { partitionKey: string; data: Buffer }): void;
  flushBufferedRecords(onReady: (error: Error | null, encoded: EncodedRecord) => void): void;
}

/**
 * Several user records aggregated the way the Kinesis Producer Library does, as one record to put
 * in a test event or a stream: the runtime de-aggregates it into its user records. Uses the same
 * library (`aws-kinesis-agg`) the runtime reads aggregates with.
 * @see https://docs.aws.amazon.com/streams/latest/dev/kinesis-kpl-concepts.html#kinesis-kpl-concepts-aggretation
 */
export async function kplAggregate(records: readonly AggregatedRecord[]): Promise<TestRecord> {
  if (records.length === 0) throw new Error('kplAggregate needs at least one record (given 0)');
  // Loaded on use: only tests that aggregate pay for protobufjs.
  const { RecordAggregator } = require('aws-kinesis-agg') as {
    RecordAggregator: new (onReady: (error: Error | null) => void) => RecordAggregator;
  };
  const encoded = await new Promise<EncodedRecord>((resolve, reject) => {
    // The callback fires only when the 1 MB buffer fills; a test aggregate is flushed below.
    const aggregator = new RecordAggregator((error) => error && reject(error));
    records.forEach((record, index) => {
      const data = record.data;
      aggregator.addUserRecord({
        partitionKey: record.partitionKey ?? String(index),
        data: Buffer.from(
          data instanceof Uint8Array
            ? data
            : typeof data === 'string'
              ? data
              : JSON.stringify(data),
        ),
      });
    });
    aggregator.flushBufferedRecords((error, result) => (error ? reject(error) : resolve(result)));
  });
  return { data: new Uint8Array(encoded.data), partitionKey: encoded.partitionKey };
}
