// The runtime's public surface. Anything not exported here is internal and free to change.

export type { BatchResponse, KinesisEvent, KinesisEventRecord } from '../kinesis/index';
export { compareSequenceNumbers } from '../kinesis/index';
export type {
  ArchiveSlice,
  BackfillContinuation,
  BackfillCounts,
  BackfillEvent,
  BackfillResult,
  BackfillSlice,
  ShardSlice,
} from './backfill/index';
export { isBackfillEvent } from './backfill/index';
export type { CursorStore, DynamoCursorsOptions } from './cursors';
export { dynamoCursors, memoryCursors } from './cursors';
export type { DeadLetter, DeadLetterSendOptions, DeadLetterSink } from './dead-letter';
export type {
  MemoryDeadLetterSink,
  OverflowDeadLetter,
  S3DeadLettersOptions,
  SqsDeadLettersOptions,
} from './dead-letter-sinks';
export {
  deadLettersFromEnvironment,
  fileDeadLetters,
  memoryDeadLetters,
  s3DeadLetters,
  sqsDeadLetters,
} from './dead-letter-sinks';
export type { Decoder, RecordDecoder } from './decoders';
export { bytes, json, utf8 } from './decoders';
export { ENVIRONMENT, METRICS, METRICS_NAMESPACE } from './environment';
export {
  ConfigurationError,
  DecodeError,
  DriverlessError,
  InvalidEventError,
  JobTimeoutError,
} from './errors';
export { failuresOf } from './failures-of';
export type { Job, JobContext, JobResult, JobStatus } from './jobs';
export type { MicroBatchHandler, MicroBatchOptions } from './micro-batch';
export { batchIdOf, microBatch } from './micro-batch';
export { REPLAY_CLIENT_CONTEXT } from './replay-context';
export type { JobInput, Stage, Stages } from './stages';
export type { StandardSchemaV1 } from './standard-schema';
export type {
  AggregateOptions,
  ClosedWindow,
  EmitContext,
  WatermarkOptions,
} from './state/aggregate';
export { aggregate } from './state/aggregate';
export type { TickEvent } from './state/bind-stateful';
export type { DedupeHandler, DedupeOptions } from './state/dedupe';
export { dedupe } from './state/dedupe';
export type { Duration } from './state/duration';
export type {
  JoinEmitContext,
  Joined,
  JoinedRecord,
  JoinSide,
  StreamJoin,
  StreamJoinOptions,
} from './state/join';
export { streamJoin } from './state/join';
export type { LateContext, LateHandling } from './state/late-records';
export type {
  DynamoStateTableOptions,
  StateItem,
  StateKey,
  StateTable,
  StateWrite,
} from './state/state-table';
export { dynamoStateTable, memoryStateTable } from './state/state-table';
export type { StatefulJob } from './state/stateful-job';
export type {
  SessionWindows,
  SlidingWindows,
  TumblingWindows,
  WindowAssigner,
} from './state/window-assigners';
export { session, sliding, tumbling } from './state/window-assigners';
export type { StreamRecord } from './stream-record';
export type { WindowCloseContext, WindowContext, WindowOptions } from './windows';
