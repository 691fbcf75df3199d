import { ConfigurationError } from '../errors';

/** A length of time: milliseconds, or a string such as `'500ms'`, `'90s'`, `'10m'`, `'2h'`, `'1d'`. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h' | 'd'}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Milliseconds of a {@link Duration}; throws a ConfigurationError naming `what` and the value
 * given when it is not a whole, non-negative number of milliseconds (or positive when `positive`).
 */
export function toMillis(value: Duration, what: string, positive = true): number {
  const match = typeof value === 'string' ? PATTERN.exec(value) : undefined;
  const ms =
    typeof value === 'number'
      ? value
      : match
        ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]
        : Number.NaN;
  if (!Number.isInteger(ms) || ms < 0 || (positive && ms === 0)) {
    throw new ConfigurationError(
      `${what} must be a ${positive ? 'positive' : 'non-negative'} whole number of milliseconds or a string like '90s', '10m', '2h', '1d' (given ${JSON.stringify(value)})`,
    );
  }
  return ms;
}
