export type {
  ArchiveSlice,
  BackfillContinuation,
  BackfillCounts,
  BackfillEvent,
  BackfillJobTally,
  BackfillResult,
  BackfillSlice,
  ShardSlice,
} from './backfill-event';
export { isBackfillEvent, MAX_BACKFILL_BATCH_SIZE } from './backfill-event';
export { BACKFILL_MAX_ATTEMPTS, backfillCursors, runBackfill } from './run-backfill';
