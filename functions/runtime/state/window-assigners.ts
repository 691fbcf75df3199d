import { ConfigurationError } from '../errors';
import { type Duration, toMillis } from './duration';

/** Fixed-size, non-overlapping windows `[k·size, (k+1)·size)` of event time. */
export interface TumblingWindows {
  readonly kind: 'tumbling';
  readonly sizeMs: number;
}

/** Windows of `size` starting every `every`: a record belongs to `size / every` of them. */
export interface SlidingWindows {
  readonly kind: 'sliding';
  readonly sizeMs: number;
  readonly everyMs: number;
}

/**
 * Per-key sessions: a record opens `[t, t + gap)`, and overlapping sessions of a key merge, so a
 * session ends `gap` after its last record.
 */
export interface SessionWindows {
  readonly kind: 'session';
  readonly gapMs: number;
}

/** How records are assigned to event-time windows: {@link tumbling}, {@link sliding} or {@link session}. */
export type WindowAssigner = TumblingWindows | SlidingWindows | SessionWindows;

/** Tumbling windows of `size` (e.g. `'1m'`), aligned on the epoch. */
export function tumbling(size: Duration): TumblingWindows {
  return { kind: 'tumbling', sizeMs: toMillis(size, 'tumbling(size)') };
}

/** Sliding windows of `size` starting every `every`; `size` must be a multiple of `every`. */
export function sliding(options: {
  readonly size: Duration;
  readonly every: Duration;
}): SlidingWindows {
  const sizeMs = toMillis(options.size, 'sliding({ size })');
  const everyMs = toMillis(options.every, 'sliding({ every })');
  if (sizeMs % everyMs !== 0) {
    throw new ConfigurationError(
      `sliding({ size, every }): size must be a multiple of every (given size ${sizeMs} ms, every ${everyMs} ms)`,
    );
  }
  return { kind: 'sliding', sizeMs, everyMs };
}

/** Session windows that close after `gap` without records of their key. */
export function session(options: { readonly gap: Duration }): SessionWindows {
  return { kind: 'session', gapMs: toMillis(options.gap, 'session({ gap })') };
}

/** The starts of the fixed windows (tumbling or sliding) that hold event time `t`, oldest first. */
export function windowStarts(assigner: TumblingWindows | SlidingWindows, t: number): number[] {
  const every = assigner.kind === 'tumbling' ? assigner.sizeMs : assigner.everyMs;
  const last = Math.floor(t / every) * every;
  const starts: number[] = [];
  for (let start = last - assigner.sizeMs + every; start <= last; start += every) {
    starts.push(start);
  }
  return starts;
}
