import { compileFilterPattern } from './filterPattern';
import type { StreamRecord } from './kinesisEvent';

/** Decides per record whether it reaches the function (docs/event-source-mapping.md#filtering). */
export type RecordFilter = (record: StreamRecord) => boolean;

/**
 * Compiles the mapping's `FilterCriteria` patterns (ORed). Returns undefined when there are none.
 * Each pattern is matched against the record's `kinesis` metadata with `data` replaced by the
 * base64-decoded, JSON-parsed payload. A record whose data is not JSON never matches a pattern
 * that has a `data` key: it is dropped, not retried (docs/event-source-mapping.md#filtering).
 */
export function compileRecordFilter(patterns: readonly string[]): RecordFilter | undefined {
  if (patterns.length === 0) return undefined;
  const compiled = patterns.map((pattern) => ({
    match: compileFilterPattern(pattern),
    usesData: mentionsData(JSON.parse(pattern) as unknown),
  }));
  return function recordFilter(record) {
    let input: Record<string, unknown> | undefined;
    let isJson = false;
    const matchInput = (): Record<string, unknown> => {
      if (!input) {
        let data: unknown;
        try {
          data = JSON.parse(Buffer.from(record.data).toString('utf8'));
          isJson = true;
        } catch {
          isJson = false;
        }
        input = { ...record.eventRecord.kinesis, data };
      }
      return input;
    };
    return compiled.some(({ match, usesData }) => {
      const value = matchInput();
      return usesData && !isJson ? false : match(value);
    });
  };
}

function mentionsData(pattern: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) return false;
  const object = pattern as Record<string, unknown>;
  if (Object.hasOwn(object, 'data')) return true;
  const alternatives = object.$or;
  return Array.isArray(alternatives) && alternatives.some(mentionsData);
}
