// What Lambda's Kinesis integration promises a function, in one place: the event it sends, the
// response it reads, tumbling-window arithmetic and the on-failure record it writes. The runtime
// (which answers the mapping), the emulator (which plays the mapping), `driverless run` and
// redrive (which stand in for it) all import it from here. It imports nothing outside `functions/`
// because the runtime is bundled into Lambda on its own. See docs/event-source-mapping.md.

export type {
  BatchOutcome,
  BatchResponse,
  BatchResponseOptions,
  InvocationResult,
} from './batch-response';
export { classifyBatchResponse } from './batch-response';
export type {
  KinesisEvent,
  KinesisEventRecord,
  KinesisRecordFields,
  KinesisWindowEvent,
  KinesisWindowFields,
} from './kinesis-event';
export { kinesisEventRecord, kinesisEventRecordJson } from './kinesis-event';
export type {
  OnFailureCondition,
  OnFailureInput,
  OnFailurePointer,
  OnFailureRecord,
} from './on-failure-record';
export {
  isOnFailurePointer,
  onFailureObjectKey,
  onFailureRecord,
  S3_ON_FAILURE_PREFIX,
} from './on-failure-record';
export type { RecordPosition } from './sequence-numbers';
export {
  comparePositions,
  compareSequenceNumbers,
  isSequenceNumber,
  lowestPosition,
} from './sequence-numbers';
export type { OpenWindow, WindowInvocation } from './tumbling-window';
export {
  isFreshState,
  MAX_WINDOW_STATE_BYTES,
  openWindow,
  windowBounds,
  windowFields,
  windowStartOf,
  windowStateBytes,
} from './tumbling-window';
