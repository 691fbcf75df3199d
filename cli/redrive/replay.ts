import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  classifyBatchResponse,
  compareSequenceNumbers,
  kinesisEventRecord,
} from '../../functions/kinesis/index';
import { REPLAY_CLIENT_CONTEXT } from '../../functions/runtime/replay-context';
import { parseJson } from './parse-json';
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

/** Invokes each function once per chunk of one shard's records, in sequence order, as the ESM does. */
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
    let failedFrom = -1;
    for (let start = 0; start < group.length && failedFrom < 0; start += batchSize) {
      const chunk = group.slice(start, start + batchSize);
      const first = chunk[0] as ReplayRecord;
      const event = {
        Records: chunk.map((record) =>
          kinesisEventRecord({
            shardId: record.shardId,
            sequenceNumber: record.sequenceNumber,
            partitionKey: record.partitionKey,
            data: record.data,
            approximateArrivalTimestamp: record.approximateArrivalTimestamp,
            awsRegion: record.streamArn.split(':')[3] ?? 'us-east-1',
            eventSourceARN: record.streamArn,
          }),
        ),
      };
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: first.functionName,
          Qualifier: qualifier,
          ClientContext: REDRIVE_CLIENT_CONTEXT,
          Payload: Buffer.from(JSON.stringify(event)),
        }),
      );
      // Read as the mapping reads a response (docs/event-source-mapping.md#partial-batch-response):
      // an error or a malformed list fails the whole chunk; a reported item fails it and everything
      // after it in the shard.
      const outcome = classifyBatchResponse(
        {
          payload: parseJson(Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8')),
          functionError: out.FunctionError ? 'Unhandled' : undefined,
        },
        chunk.map((record) => record.sequenceNumber),
        { reportBatchItemFailures: true, tumblingWindow: false },
      );
      const failedAt =
        outcome.kind === 'failure' ? 0 : outcome.kind === 'partial' ? outcome.retryFrom : -1;
      for (const [index, record] of chunk.entries()) {
        // The replay marker makes the runtime bypass per-job cursors, so an accepted record
        // reached every job of the function.
        record.outcome = failedAt >= 0 && index >= failedAt ? 'failing' : 'recovered';
      }
      if (failedAt >= 0) failedFrom = start + failedAt;
      done += chunk.length;
      onProgress?.({ phase: 'replaying', done, total });
    }
    if (failedFrom >= 0) {
      for (const record of group.slice(failedFrom)) record.outcome = 'failing';
      done = Math.min(total, done + group.length - failedFrom);
    }
  }
  onProgress?.({ phase: 'replaying', done: total, total });
}
