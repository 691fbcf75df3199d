/**
 * The end of a `driverless run` input for stateful jobs (docs/state.md): the runtime's state
 * lives in memory for the run, and once the last record has run, one final tick tells the handler
 * that no record can follow, so the watermark goes to +infinity and every open window is emitted.
 */

/** What `run` sets `DRIVERLESS_STATE_TABLE` to when the user gives no table: state in memory. */
export const RUN_STATE_TABLE = 'memory:';

/** The tick the runtime recognizes (no `Records`); `final` only at the end of a run's input. */
export interface TickEvent {
  readonly driverless: 'tick';
  readonly source: string;
  /** Processing time, ISO-8601. */
  readonly time: string;
  readonly final?: true;
}

/** The final tick of a run over `source`, at `now`. */
export function finalTickEvent(source: string, now: Date = new Date()): TickEvent {
  return { driverless: 'tick', source, time: now.toISOString(), final: true };
}

/**
 * Keeps the stateful jobs' state in memory for the run unless the user named a table (a real
 * one, e.g. to inspect what the jobs wrote): a run starts from nothing and ends with every window
 * emitted, so nothing needs to outlive it.
 */
export function setRunStateTable(env: NodeJS.ProcessEnv): void {
  if (!env.DRIVERLESS_STATE_TABLE) env.DRIVERLESS_STATE_TABLE = RUN_STATE_TABLE;
}

/**
 * The error a handler built on a runtime without ticks throws for one: the runtime's
 * `InvalidEventError` (not a Kinesis event). Such a handler has no stateful jobs, hence nothing to
 * emit at the end; a runtime with ticks answers every tick, stateful jobs or not.
 */
export function predatesTicks(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidEventError';
}
