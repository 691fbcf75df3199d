import type { KinesisEvent } from '../../kinesis/index';
import { type DeadLetter, deadLetterId, letterIdOf } from '../dead-letter';
import { deliverDeadLetters } from '../deliver-dead-letters';
import type { JobContext } from '../jobs';
import type { StreamRecord } from '../stream-record';
import type { StatefulServices } from './stateful-job';

/** Context of a function given late records. */
export interface LateContext {
  readonly job: string;
  readonly source: string;
}

/**
 * What becomes of records that arrive after every window they belong to has closed: a dead letter
 * with reason `late`, a drop counted in the job's log line, or your function (called again with the
 * same records if the batch is retried).
 */
export type LateHandling<T> =
  | 'dead-letter'
  | 'drop'
  | ((records: readonly StreamRecord<T>[], context: LateContext) => Promise<void> | void);

/** A record no window took, and why: `late`, or an event time that is not a time. */
export interface LateRecord<T> {
  readonly record: StreamRecord<T>;
  readonly reason: 'late' | 'invalid event time';
}

/**
 * Hands late records to where `handling` says, before the shard's progress is written: if this
 * fails the batch fails, and its retry finds the same records late again (windows only close), so
 * a letter is written again with the same `letterId`, never lost.
 */
export async function settleLate<T>(
  handling: LateHandling<T>,
  late: readonly LateRecord<T>[],
  services: StatefulServices,
  context: JobContext,
  event: KinesisEvent,
): Promise<void> {
  if (late.length === 0) return;
  if (handling === 'drop') {
    services.logger.info('late records dropped', {
      job: context.job,
      batchId: context.batchId,
      dropped: late.length,
    });
    return;
  }
  if (typeof handling === 'function') {
    await handling(
      late.map((entry) => entry.record),
      { job: context.job, source: services.source },
    );
    return;
  }
  const raw = new Map(
    event.Records.map((record) => [record.kinesis.sequenceNumber, record.kinesis]),
  );
  const deadLetteredAt = new Date().toISOString();
  const letters = late.map(({ record, reason }): DeadLetter => {
    const kinesis = raw.get(record.sequenceNumber);
    // A KPL sub-record has no bytes of its own in the event: its decoded value is re-encoded.
    const data =
      kinesis && record.subSequenceNumber === undefined
        ? kinesis.data
        : Buffer.from(JSON.stringify(record.data)).toString('base64');
    const arrival = kinesis?.approximateArrivalTimestamp ?? record.arrivedAt.getTime() / 1000;
    const where = {
      streamArn: context.streamArn,
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
    };
    return {
      id: deadLetterId(record.shardId, record.sequenceNumber, record.subSequenceNumber),
      letterId: letterIdOf(services.functionName ?? services.source, where),
      reason,
      data,
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      ...(record.subSequenceNumber === undefined
        ? {}
        : { subSequenceNumber: record.subSequenceNumber }),
      shardId: record.shardId,
      streamArn: context.streamArn,
      arrivedAt: new Date(Math.round(arrival * 1000)).toISOString(),
      approximateArrivalTimestamp: arrival,
      source: services.source,
      ...(services.functionName === undefined ? {} : { functionName: services.functionName }),
      batchId: context.batchId,
      deadLetteredAt,
    };
  });
  const undelivered = await deliverDeadLetters(
    services.deadLetters,
    letters,
    context.deadline,
    services.logger,
    { batchId: context.batchId },
  );
  if (undelivered.length > 0) {
    throw new Error(`${undelivered.length} late record(s) could not be dead-lettered`);
  }
}
