import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  classifyBatchResponse,
  compareSequenceNumbers,
  kinesisEventRecord,
} from '../../functions/kinesis/index';
import { REPLAY_CLIENT_CONTEXT } from '../../functions/runtime/replay-context';
import { parseJson } from './parse-json';
import { ReplayInvokeError } from './redrive-error';
import type { RedriveProgress } from './redrive-progress';
import type { ReplayRecord } from './replay-set';

/**
 * Invoke's `ClientContext` (base64 JSON) of every replay: the runtime's replay marker. The event
 * keeps its original shape, and a runtime can still tell a replay from a mapping's delivery
 * (per-job cursors must not skip replayed records that are behind them).
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-ClientContext
 */
export const REDRIVE_CLIENT_CONTEXT = Buffer.from(JSON.stringify(REPLAY_CLIENT_CONTEXT)).toString(
  'base64',
);

/**
 * Lambda's cap on a synchronous Invoke's request payload, in bytes of the event JSON (base64 data
 * included). A shard's records are split into events under it, whatever their count.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** `{"Records":[` and `]}` around the records, which are joined by commas. */
const EVENT_ENVELOPE_BYTES = Buffer.byteLength(JSON.stringify({ Records: [] }));

/** A replayed record as the mapping delivers it in an event. */
function eventRecord(record: ReplayRecord) {
  return kinesisEventRecord({
    shardId: record.shardId,
    sequenceNumber: record.sequenceNumber,
    partitionKey: record.partitionKey,
    data: record.data,
    approximateArrivalTimestamp: record.approximateArrivalTimestamp,
    awsRegion: record.streamArn.split(':')[3] ?? 'us-east-1',
    eventSourceARN: record.streamArn,
  });
}

/** Bytes of the event that holds only `record`: over the limit, it can never be replayed. */
export function singleRecordEventBytes(record: ReplayRecord): number {
  return EVENT_ENVELOPE_BYTES + Buffer.byteLength(JSON.stringify(eventRecord(record)));
}

/**
 * Splits one shard's records, in order, into events of at most `batchSize` records and
 * `maxBytes` bytes. A record whose event alone is larger gets a chunk of its own (the caller
 * leaves such records out: see {@link singleRecordEventBytes}).
 */
function chunksOf(
  records: readonly ReplayRecord[],
  batchSize: number,
  maxBytes: number,
): { records: ReplayRecord[]; payload: string }[] {
  const chunks: { records: ReplayRecord[]; payload: string }[] = [];
  let current: ReplayRecord[] = [];
  let entries: string[] = [];
  let bytes = EVENT_ENVELOPE_BYTES;
  const close = () => {
    if (current.length === 0) return;
    chunks.push({ records: current, payload: `{"Records":[${entries.join(',')}]}` });
    current = [];
    entries = [];
    bytes = EVENT_ENVELOPE_BYTES;
  };
  for (const record of records) {
    const entry = JSON.stringify(eventRecord(record));
    const entryBytes = Buffer.byteLength(entry);
    // +1: the comma before every record but the first.
    if (current.length === batchSize || (current.length > 0 && bytes + 1 + entryBytes > maxBytes)) {
      close();
    }
    bytes += entryBytes + (current.length > 0 ? 1 : 0);
    current.push(record);
    entries.push(entry);
  }
  close();
  return chunks;
}

/**
 * Invokes each function once per chunk of one shard's records, in sequence order, as the ESM does.
 * Rejects with {@link ReplayInvokeError} when an Invoke fails; the outcomes set so far stand.
 */
export async function replay(
  lambda: LambdaClient,
  qualifier: string,
  records: readonly ReplayRecord[],
  batchSize: number,
  onProgress: ((progress: RedriveProgress) => void) | undefined,
): Promise<void> {
  const groups = new Map<string, ReplayRecord[]>();
  for (const record of records) {
    const key = `${record.functionName}|${record.streamArn}|${record.shardId}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  let done = 0;
  const total = records.length;
  onProgress?.({ phase: 'replaying', done, total });
  for (const group of groups.values()) {
    group.sort(
      (a, b) =>
        compareSequenceNumbers(a.sequenceNumber, b.sequenceNumber) ||
        (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0),
    );
    let failed = false;
    for (const chunk of chunksOf(group, batchSize, MAX_INVOKE_PAYLOAD_BYTES)) {
      if (failed) {
        // Not replayed: records after a failure wait behind it, as in the shard.
        for (const record of chunk.records) record.outcome = 'failing';
        continue;
      }
      const first = chunk.records[0] as ReplayRecord;
      const out = await lambda
        .send(
          new InvokeCommand({
            FunctionName: first.functionName,
            Qualifier: qualifier,
            ClientContext: REDRIVE_CLIENT_CONTEXT,
            Payload: Buffer.from(chunk.payload),
          }),
        )
        .catch((error: unknown) => {
          throw new ReplayInvokeError(`${first.functionName}:${qualifier}`, error);
        });
      // Read as the mapping reads a response (docs/event-source-mapping.md#partial-batch-response):
      // an error or a malformed list fails the whole chunk; a reported item fails it and everything
      // after it in the shard.
      const outcome = classifyBatchResponse(
        {
          payload: parseJson(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')),
          functionError: out.FunctionError ? 'Unhandled' : undefined,
        },
        chunk.records.map((record) => record.sequenceNumber),
        { reportBatchItemFailures: true, tumblingWindow: false },
      );
      const failedAt =
        outcome.kind === 'failure' ? 0 : outcome.kind === 'partial' ? outcome.retryFrom : -1;
      for (const [index, record] of chunk.records.entries()) {
        // The replay marker makes the runtime bypass per-job cursors, so an accepted record
        // reached every job of the function.
        record.outcome = failedAt >= 0 && index >= failedAt ? 'failing' : 'recovered';
      }
      failed = failedAt >= 0;
      done += chunk.records.length;
      onProgress?.({ phase: 'replaying', done, total });
    }
  }
  onProgress?.({ phase: 'replaying', done: total, total });
}
