import type { BackfillCounts } from '../../functions/runtime/backfill/backfill-event';
import type { RunSummary } from '../run/batch-runner';
import { formatSummary } from '../run/format-summary';
import type { PlannedSlice } from './plan-slices';
import type { Unit } from './progress-store';

/** Slices by state, for the progress line and the summary. */
export function unitStates(units: readonly Unit[]): Record<Unit['state'], number> {
  const states = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const unit of units) states[unit.state] += 1;
  return states;
}

/**
 * The progress line: slices done/running/failed of all, records so far, records/s of this run and
 * the time left at that pace of slices.
 */
export function progressLine(
  units: readonly Unit[],
  recordsThisRun: number,
  unitsDoneThisRun: number,
  elapsedMs: number,
): string {
  const s = unitStates(units);
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const left = units.length - s.done - s.failed;
  const eta = unitsDoneThisRun === 0 ? '?' : `${Math.ceil((left * seconds) / unitsDoneThisRun)} s`;
  const n = (value: number) => value.toLocaleString('en-US');
  return `slices ${n(s.done)}/${n(units.length)} done, ${n(s.running)} running, ${n(s.failed)} failed · ${n(recordsThisRun)} records · ${n(Math.round(recordsThisRun / seconds))} records/s · ETA ${eta}`;
}

/** The plan as `--dry-run` prints it: one row per slice, with its size. */
export function formatPlan(plan: readonly PlannedSlice[], functions: readonly string[]): string {
  const rows = plan.map((p) => {
    const size =
      p.slice.kind === 'archive'
        ? `${p.objects} objects, ${(p.bytes ?? 0).toLocaleString('en-US')} bytes`
        : `${new Date(p.slice.fromMs).toISOString()} → ${new Date(p.slice.toMs).toISOString()} (${Math.round((p.spanMs ?? 0) / 1000)} s)`;
    const after = p.after.length === 0 ? '' : `  after ${p.after.join(', ')}`;
    return `${p.slice.id}  ${size}${after}`;
  });
  const bytes = plan.reduce((sum, p) => sum + (p.bytes ?? 0), 0);
  const total =
    plan[0]?.slice.kind === 'archive'
      ? `, ${plan.reduce((sum, p) => sum + (p.objects ?? 0), 0)} objects, ${bytes.toLocaleString('en-US')} bytes`
      : '';
  return `${rows.join('\n')}\n\n${plan.length} slices${total} × ${functions.length} function${functions.length === 1 ? '' : 's'} (${functions.join(', ')}) = ${plan.length * functions.length} invocation chains\n`;
}

/** The backfill's totals in `driverless run`'s summary shape (records are Kinesis records read). */
export function summaryOf(
  totals: BackfillCounts,
  durationMs: number,
  recordsThisRun: number,
): RunSummary {
  return {
    batches: totals.batches,
    invocations: totals.invocations,
    records: totals.records,
    processed: Math.max(0, totals.records - totals.deadLettered - totals.failed),
    deadLettered: totals.deadLettered,
    failed: totals.failed,
    windowsClosed: 0,
    windowsFailed: 0,
    jobs: totals.jobs,
    durationMs: Math.round(durationMs),
    recordsPerSecond: Math.round(recordsThisRun / Math.max(durationMs / 1000, 0.001)),
    ...(totals.lastError === undefined ? {} : { lastError: totals.lastError }),
    // The functions report their last error, not each distinct one with counts as `run` has them.
    errors: [],
  };
}

/** The human summary: slices, then `run`'s totals and per-job table. */
export function formatBackfillSummary(units: readonly Unit[], summary: RunSummary): string {
  const s = unitStates(units);
  const failed = units.filter((u) => u.state === 'failed');
  const reasons = failed
    .slice(0, 5)
    .map((u) => `\nslice ${u.slice.id} failed: ${u.lastError ?? 'unknown error'}`)
    .join('');
  return `slices  ${s.done}/${units.length} done, ${s.failed} failed, ${s.pending + s.running} left${reasons}\n${formatSummary(summary)}`;
}
