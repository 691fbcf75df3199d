import { compileFilterPattern, FilterPatternError } from '../../emulator/esm/filterPattern';

/** Given a pattern and an input, whether the pattern matches. */
function matches(pattern: unknown, input: unknown): boolean {
  return compileFilterPattern(JSON.stringify(pattern))(input);
}

describe('filter patterns', () => {
  test.each([
    ['exact string', { data: { type: ['view'] } }, { data: { type: 'view' } }, true],
    ['exact string, other value', { data: { type: ['view'] } }, { data: { type: 'buy' } }, false],
    ['exact number', { data: { n: [5] } }, { data: { n: 5 } }, true],
    ['exact boolean', { data: { ok: [true] } }, { data: { ok: true } }, true],
    ['exact null', { data: { v: [null] } }, { data: { v: null } }, true],
    ['any of the listed values', { data: { t: ['a', 'b'] } }, { data: { t: 'b' } }, true],
    ['value in an array field', { data: { tags: ['x'] } }, { data: { tags: ['y', 'x'] } }, true],
    ['missing field', { data: { type: ['view'] } }, { data: {} }, false],
    ['nested objects', { data: { a: { b: ['c'] } } }, { data: { a: { b: 'c' } } }, true],
    ['every key must match', { data: { a: [1], b: [2] } }, { data: { a: 1, b: 3 } }, false],
    ['prefix', { data: { s: [{ prefix: 'us-' }] } }, { data: { s: 'us-east' } }, true],
    ['prefix, no match', { data: { s: [{ prefix: 'us-' }] } }, { data: { s: 'eu-west' } }, false],
    ['suffix', { data: { f: [{ suffix: '.png' }] } }, { data: { f: 'a.png' } }, true],
    [
      'equals-ignore-case',
      { data: { c: [{ 'equals-ignore-case': 'EU' }] } },
      { data: { c: 'eu' } },
      true,
    ],
    ['wildcard', { data: { p: [{ wildcard: 'a*c' }] } }, { data: { p: 'abbc' } }, true],
    ['numeric range', { data: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, { data: { n: 5 } }, true],
    [
      'numeric range, outside',
      { data: { n: [{ numeric: ['>', 0, '<=', 5] }] } },
      { data: { n: 6 } },
      false,
    ],
    ['numeric on a string', { data: { n: [{ numeric: ['=', 1] }] } }, { data: { n: '1' } }, false],
    ['exists true', { data: { e: [{ exists: true }] } }, { data: { e: 0 } }, true],
    ['exists true, missing', { data: { e: [{ exists: true }] } }, { data: {} }, false],
    ['exists false', { data: { e: [{ exists: false }] } }, { data: {} }, true],
    ['exists false, present', { data: { e: [{ exists: false }] } }, { data: { e: 1 } }, false],
    ['anything-but value', { data: { s: [{ 'anything-but': 'x' }] } }, { data: { s: 'y' } }, true],
    [
      'anything-but list',
      { data: { s: [{ 'anything-but': ['x', 'y'] }] } },
      { data: { s: 'y' } },
      false,
    ],
    [
      'anything-but prefix',
      { data: { s: [{ 'anything-but': { prefix: 'test-' } }] } },
      { data: { s: 'prod-1' } },
      true,
    ],
    [
      'anything-but, missing field',
      { data: { s: [{ 'anything-but': 'x' }] } },
      { data: {} },
      false,
    ],
    [
      '$or, second alternative',
      { data: { $or: [{ a: [1] }, { b: [2] }] } },
      { data: { b: 2 } },
      true,
    ],
    [
      '$or, no alternative',
      { data: { $or: [{ a: [1] }, { b: [2] }] } },
      { data: { a: 2, b: 1 } },
      false,
    ],
    ['metadata key', { partitionKey: ['k1'] }, { partitionKey: 'k1', data: 'x' }, true],
  ])('%s', (_name, pattern, input, expected) => {
    // given a compiled pattern, when matched, then
    expect(matches(pattern, input)).toBe(expected);
  });

  test('the last value wins when a key appears twice', () => {
    // given
    const match = compileFilterPattern('{"data":{"t":["a"],"t":["b"]}}');
    // when / then
    expect([match({ data: { t: 'a' } }), match({ data: { t: 'b' } })]).toStrictEqual([false, true]);
  });

  test.each([
    ['not JSON', 'data = view'],
    ['not an object', '["view"]'],
    ['a scalar value', '{"data":{"type":"view"}}'],
    ['an unknown operator', '{"data":{"n":[{"between":[1,2]}]}}'],
    ['a bad numeric operator', '{"data":{"n":[{"numeric":["~",1]}]}}'],
    ['$or with one alternative', '{"$or":[{"a":[1]}]}'],
  ])('fails if the pattern is %s', (_name, pattern) => {
    // when / then
    expect(() => compileFilterPattern(pattern)).toThrow(FilterPatternError);
  });
});
