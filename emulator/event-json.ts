/**
 * The JSON text of an invocation event, kept beside the event when whoever built it already has it.
 *
 * An execution environment receives its event as JSON text and parses it, as the Lambda runtime
 * does. The event source mapping serializes every record anyway (to keep a batch under the 6 MB
 * payload limit), so it builds a batch's text from those pieces instead of serializing 10,000
 * records a second time on the way to the environment.
 */
const texts = new WeakMap<object, string>();

/**
 * Remembers `json` as the text of `event`. The caller promises that `JSON.stringify(event)` gives
 * the same value and that `event` is not changed afterwards.
 */
export function withJsonText<T extends object>(event: T, json: string): T {
  texts.set(event, json);
  return event;
}

/** The event's JSON text: the remembered one, else `JSON.stringify`. `undefined` has none. */
export function jsonTextOf(event: unknown): string | undefined {
  if (typeof event === 'object' && event !== null) {
    const known = texts.get(event);
    if (known !== undefined) return known;
  }
  return JSON.stringify(event);
}
