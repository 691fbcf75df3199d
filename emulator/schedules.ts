import { randomUUID } from 'node:crypto';
import type { Invoke, InvokeResult, LocalSchedule, ScheduleTarget } from './model';

/** The event EventBridge makes for each firing of a scheduled rule. */
export interface ScheduledEvent {
  version: '0';
  id: string;
  'detail-type': 'Scheduled Event';
  source: 'aws.events';
  account: string;
  /** The scheduled time, ISO-8601 to the second. */
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, never>;
}

/** One firing of a schedule on one target, as {@link RunningSchedules} reports it. */
export interface ScheduleFiring {
  readonly schedule: LocalSchedule;
  readonly target: ScheduleTarget;
  /** When the timer fired (epoch milliseconds); the invocation may end much later. */
  readonly firedAt: number;
  readonly event: unknown;
  /** What the invocation returned, or why it could not be made. */
  readonly result: InvokeResult | { readonly error: Error };
}

/** Options of {@link startSchedules}. */
export interface SchedulesOptions {
  readonly invoke: Invoke;
  readonly region: string;
  readonly accountId: string;
  /**
   * Fire every schedule this often instead of at its rate, so tests and `driverless dev` need not
   * wait a minute for a tick. @default - each rule's own rate
   */
  readonly intervalMs?: number;
  /** Every firing, once its invocation is done. */
  readonly onFiring?: (firing: ScheduleFiring) => void;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Schedules firing on timers; `stop()` clears them and waits for invocations in flight. */
export interface RunningSchedules {
  stop(): Promise<void>;
}

/**
 * Runs each schedule on a timer, as EventBridge does: the first firing one interval after start,
 * every target invoked with its input built from that firing's event. EventBridge invokes Lambda
 * asynchronously, so a slow invocation does not hold back the next firing.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export function startSchedules(
  schedules: readonly LocalSchedule[],
  options: SchedulesOptions,
): RunningSchedules {
  if (options.intervalMs !== undefined && !(options.intervalMs > 0)) {
    throw new Error(`schedule interval must be more than 0 ms (given ${options.intervalMs})`);
  }
  const now = options.now ?? Date.now;
  const inFlight = new Set<Promise<void>>();
  const fire = (schedule: LocalSchedule) => {
    const firedAt = now();
    const event = scheduledEvent(schedule, firedAt, options);
    for (const target of schedule.targets) {
      const input = targetInput(target, event);
      const invocation = options
        .invoke(target.functionName, target.qualifier, input)
        .then(
          (result) => options.onFiring?.({ schedule, target, firedAt, event: input, result }),
          (error: unknown) =>
            options.onFiring?.({
              schedule,
              target,
              firedAt,
              event: input,
              result: { error: error instanceof Error ? error : new Error(String(error)) },
            }),
        )
        .finally(() => inFlight.delete(invocation));
      inFlight.add(invocation);
    }
  };
  const timers = schedules.map((schedule) =>
    setInterval(() => fire(schedule), options.intervalMs ?? schedule.rateMs),
  );
  return {
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.all([...inFlight]);
    },
  };
}

function scheduledEvent(
  schedule: LocalSchedule,
  at: number,
  where: { readonly region: string; readonly accountId: string },
): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: where.accountId,
    // EventBridge gives the time to the second: 2026-12-02T06:00:00Z.
    time: new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z'),
    region: where.region,
    resources: [schedule.arn],
    detail: {},
  };
}

/** What the target receives from `event`: the event, a constant, a part, or a filled template. */
export function targetInput(target: ScheduleTarget, event: ScheduledEvent): unknown {
  const { input } = target;
  switch (input.kind) {
    case 'event':
      return event;
    case 'constant':
      return input.value;
    case 'path':
      return valueAt(event, input.path);
    case 'transformer':
      return JSON.parse(fillTemplate(input.template, input.paths, event));
  }
}

/** `$.a.b` of `value`, the only JSONPath form schedules need; `$` is the whole value. */
function valueAt(value: unknown, path: string): unknown {
  if (!path.startsWith('$')) throw new Error(`input path must start with $ (given ${path})`);
  return path
    .slice(1)
    .split('.')
    .filter(Boolean)
    .reduce<unknown>(
      (node, key) =>
        node !== null && typeof node === 'object'
          ? (node as Record<string, unknown>)[key]
          : undefined,
      value,
    );
}

/**
 * Fills `<name>` placeholders as EventBridge does: inside a JSON string the value goes in as raw
 * text, elsewhere as JSON (a string gets its quotes).
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 */
export function fillTemplate(
  template: string,
  paths: Readonly<Record<string, string>>,
  event: unknown,
): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const char = template[i] as string;
    if (char === '"' && template[i - 1] !== '\\') inString = !inString;
    const placeholder = char === '<' ? /^<([A-Za-z0-9_.-]+)>/.exec(template.slice(i)) : null;
    const name = placeholder?.[1];
    if (placeholder && name !== undefined && name in paths) {
      const value = valueAt(event, paths[name] as string);
      const text = JSON.stringify(value ?? null);
      out += inString ? (typeof value === 'string' ? value : text) : text;
      i += placeholder[0].length - 1;
      continue;
    }
    out += char;
  }
  return out;
}
