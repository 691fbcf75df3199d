/**
 * EventBridge-style content filtering, as Lambda event filtering uses it
 * (docs/event-source-mapping.md#filtering).
 * Supported: exact values (string, number, boolean, null), `prefix`, `suffix`, `equals-ignore-case`,
 * `numeric` ranges, `exists`, `anything-but` (values, `prefix`, `suffix`, `equals-ignore-case`),
 * `wildcard` and `$or`. A pattern matches when every key matches; an array of conditions matches when
 * any one does; a condition on an array value matches when any element does.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

export type FilterPattern = (input: unknown) => boolean;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Condition = (value: unknown, present: boolean) => boolean;

export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
}

/** Parses and compiles one pattern; throws FilterPatternError naming the problem. */
export function compileFilterPattern(pattern: string): FilterPattern {
  let parsed: Json;
  try {
    parsed = JSON.parse(pattern) as Json;
  } catch {
    throw new FilterPatternError(`filter pattern must be a JSON object (given ${pattern})`);
  }
  if (!isObject(parsed)) {
    throw new FilterPatternError(`filter pattern must be a JSON object (given ${pattern})`);
  }
  const match = compileObject(parsed, '');
  return function matchesFilterPattern(input) {
    return match(input);
  };
}

function compileObject(pattern: { [key: string]: Json }, path: string): FilterPattern {
  const checks: FilterPattern[] = [];
  for (const [key, value] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isObject)) {
        throw new FilterPatternError(`$or at ${at} must be an array of at least 2 patterns`);
      }
      const alternatives = value.map((alt) => compileObject(alt as { [key: string]: Json }, path));
      checks.push((input) => alternatives.some((alt) => alt(input)));
    } else if (isObject(value)) {
      const nested = compileObject(value, at);
      checks.push((input) => {
        const child = isObject(input) ? input[key] : undefined;
        // A nested pattern over an array of objects matches when any element does.
        return Array.isArray(child) ? child.some((c) => nested(c)) : nested(child);
      });
    } else if (Array.isArray(value)) {
      const conditions = value.map((c) => compileCondition(c, at));
      checks.push((input) => {
        const present = isObject(input) && Object.hasOwn(input, key);
        const child = present ? (input as Record<string, unknown>)[key] : undefined;
        return conditions.some((condition) => condition(child, present));
      });
    } else {
      throw new FilterPatternError(
        `filter pattern value at ${at} must be an array or an object (given ${JSON.stringify(value)})`,
      );
    }
  }
  return (input) => checks.every((check) => check(input));
}

/** Applies a leaf test to a value, or to any element when the value is an array. */
function onLeaves(test: (leaf: unknown) => boolean): Condition {
  return (value, present) => {
    if (!present) return false;
    return Array.isArray(value) ? value.some(test) : test(value);
  };
}

function compileCondition(condition: Json, at: string): Condition {
  if (!isObject(condition)) {
    if (Array.isArray(condition)) {
      throw new FilterPatternError(`filter condition at ${at} cannot be a nested array`);
    }
    return onLeaves((leaf) => leaf === condition);
  }
  const entries = Object.entries(condition);
  const [entry] = entries;
  if (entries.length !== 1 || !entry) {
    throw new FilterPatternError(
      `filter condition at ${at} must have exactly one operator (given ${JSON.stringify(condition)})`,
    );
  }
  const [operator, operand] = entry;
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case':
    case 'wildcard': {
      const test = stringTest(operator, operand, at);
      return onLeaves((leaf) => typeof leaf === 'string' && test(leaf));
    }
    case 'numeric':
      return compileNumeric(operand, at);
    case 'exists':
      if (typeof operand !== 'boolean') {
        throw new FilterPatternError(`exists at ${at} must be true or false`);
      }
      // `exists` looks at leaves: an object value is not a leaf.
      return (value, present) => {
        const isLeaf = present && !isObject(value);
        return operand ? isLeaf : !present;
      };
    case 'anything-but':
      return compileAnythingBut(operand, at);
    default:
      throw new FilterPatternError(`unsupported filter operator "${operator}" at ${at}`);
  }
}

function stringTest(operator: string, operand: Json, at: string): (s: string) => boolean {
  if (typeof operand !== 'string') {
    throw new FilterPatternError(`${operator} at ${at} must be a string`);
  }
  switch (operator) {
    case 'prefix':
      return (s) => s.startsWith(operand);
    case 'suffix':
      return (s) => s.endsWith(operand);
    case 'equals-ignore-case': {
      const lower = operand.toLowerCase();
      return (s) => s.toLowerCase() === lower;
    }
    default: {
      const source = operand
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*');
      const regex = new RegExp(`^${source}$`, 's');
      return (s) => regex.test(s);
    }
  }
}

const comparators: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function compileNumeric(operand: Json, at: string): Condition {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) {
    throw new FilterPatternError(`numeric at ${at} must be [operator, number, ...]`);
  }
  const tests: ((n: number) => boolean)[] = [];
  for (let i = 0; i < operand.length; i += 2) {
    const op = operand[i];
    const bound = operand[i + 1];
    const compare = typeof op === 'string' ? comparators[op] : undefined;
    if (!compare || typeof bound !== 'number') {
      throw new FilterPatternError(
        `numeric at ${at} must pair an operator (=, <, <=, >, >=) with a number (given ${JSON.stringify(operand)})`,
      );
    }
    tests.push((n) => compare(n, bound));
  }
  return onLeaves((leaf) => typeof leaf === 'number' && tests.every((t) => t(leaf)));
}

function compileAnythingBut(operand: Json, at: string): Condition {
  let excluded: (leaf: unknown) => boolean;
  if (isObject(operand)) {
    const [entry, ...rest] = Object.entries(operand);
    if (
      !entry ||
      rest.length > 0 ||
      !['prefix', 'suffix', 'equals-ignore-case'].includes(entry[0])
    ) {
      throw new FilterPatternError(
        `anything-but at ${at} takes a value, a list, or one of prefix/suffix/equals-ignore-case`,
      );
    }
    const [operator, inner] = entry;
    const values = Array.isArray(inner) ? inner : [inner];
    const tests = values.map((v) => stringTest(operator, v, at));
    excluded = (leaf) => typeof leaf === 'string' && tests.some((t) => t(leaf));
  } else {
    const values = Array.isArray(operand) ? operand : [operand];
    excluded = (leaf) => values.includes(leaf as Json);
  }
  // anything-but needs the field to be present; on an array it matches when no element is excluded.
  return (value, present) => {
    if (!present) return false;
    return Array.isArray(value) ? !value.some(excluded) : !excluded(value);
  };
}

function isObject(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
