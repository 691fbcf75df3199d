export type {
  KinesisEvent,
  KinesisEventRecord,
  KinesisWindowEvent,
} from '../../functions/kinesis/index';
export {
  type OnFailureCondition,
  type OnFailureRecord,
  onFailureObjectKey,
} from '../../functions/kinesis/index';
export type {
  BatchInvokedEvent,
  BatchResultEvent,
  EsmEvent,
  EsmEventListener,
  MappingErrorEvent,
  RecordsCheckpointedEvent,
  RecordsDiscardedEvent,
  RecordsFilteredOutEvent,
  ShardFinishedEvent,
  ShardStartedEvent,
  WindowFinalInvokedEvent,
} from './EsmEvent';
export type { EsmTuning } from './EsmTuning';
export { defaultEsmTuning } from './EsmTuning';
export { compileFilterPattern, type FilterPattern, FilterPatternError } from './filterPattern';
export type { EsmStats } from './MappingContext';
export {
  type EventSourceMappingDeps,
  type RunningMapping,
  startEventSourceMapping,
} from './startEventSourceMapping';
