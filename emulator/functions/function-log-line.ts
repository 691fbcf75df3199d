/** One line an execution environment wrote, or one the platform wrote about it (START/END/REPORT). */
export interface FunctionLogLine {
  /** The environment's version (`$LATEST` or a number). */
  version: string;
  /** The environment's process id. */
  pid: number | undefined;
  /** The invocation running when the line arrived; none during init or between invocations. */
  requestId: string | undefined;
  stream: 'stdout' | 'stderr' | 'platform';
  /** The line as written, without its newline. */
  text: string;
  /**
   * The line parsed as a JSON object: a raw JSON line (Powertools logger and EMF metrics write
   * those), or the message field of a `console.*` line in Lambda's text format
   * (`timestamp\trequestId\tLEVEL\tmessage`).
   */
  json?: Record<string, unknown>;
}

/** Parses a log line's JSON object, if it holds one. Cheap for lines that don't. */
export function parseLogJson(text: string): Record<string, unknown> | undefined {
  let candidate = text;
  if (!candidate.startsWith('{')) {
    // Lambda text format: the message is the fourth tab-separated field.
    const parts = text.split('\t', 4);
    if (parts.length < 4) return undefined;
    candidate = text.slice(parts.slice(0, 3).join('\t').length + 1);
    if (!candidate.startsWith('{')) return undefined;
  }
  try {
    const value: unknown = JSON.parse(candidate);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
