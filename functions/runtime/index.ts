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
export type { DeadLetter, DeadLetterSink } from './dead-letter';
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
export type { StreamRecord } from './stream-record';
export type { WindowContext, WindowOptions } from './windows';
