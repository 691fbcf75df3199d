import { fail } from './cli-error';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Reads a time option: ISO-8601 (`2026-01-15T09:00:00Z`) or a duration back from `now`
 * (`-15m`, `2h`, `7d`; the sign is optional). Fails with exit 2 naming the option and the value.
 */
export function parseTime(value: string, option: string, now: number = Date.now()): Date {
  const relative = /^-?(\d+)([smhd])$/.exec(value.trim());
  if (relative) {
    return new Date(now - Number(relative[1]) * (UNIT_MS[relative[2] ?? 's'] ?? 1000));
  }
  // Only strings that look like dates: Date.parse accepts oddities like "1".
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(parsed)) {
    fail(
      `${option} must be an ISO-8601 time (2026-01-15T09:00:00Z) or a duration like -15m, -2h, -7d (given ${value})`,
    );
  }
  return new Date(parsed);
}

/** Reads a positive integer option within a range, with the range in the error. */
export function parseIntegerOption(
  value: string,
  option: string,
  min: number,
  max: number,
): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value.trim()) || parsed < min || parsed > max) {
    fail(`${option} must be an integer between ${min} and ${max} (given ${value})`);
  }
  return parsed;
}
