import { Readable } from 'node:stream';
import { createGunzip, gzipSync } from 'node:zlib';
import { splitArchiveRecords } from '../../../functions/runtime/backfill/split-archive-records';

/** The records split from `bytes` fed in chunks of `size` bytes, as numbered strings. */
async function split(
  bytes: Buffer | string,
  size = Number.MAX_SAFE_INTEGER,
  maxRecordBytes?: number,
): Promise<Array<[number, string]>> {
  const all = Buffer.from(bytes);
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += size) chunks.push(all.subarray(at, at + size));
  const out: Array<[number, string]> = [];
  for await (const record of splitArchiveRecords(Readable.from(chunks), maxRecordBytes)) {
    out.push([record.number, record.data.toString('utf8')]);
  }
  return out;
}

const tricky = [
  { s: 'a } b { c', q: 'say "hi" \\ }{' },
  [1, [2, { x: '[' }], ']'],
  { nested: { deeper: { deepest: '\\"}' } }, e: '' },
];
const raw = tricky.map((value) => JSON.stringify(value)).join('');
const expected = tricky.map((value, i) => [i + 1, JSON.stringify(value)]);

describe('splitArchiveRecords', () => {
  it('splits concatenated JSON values with braces, brackets and escaped quotes in strings', async () => {
    // when
    const records = await split(raw);
    // then
    expect(records).toStrictEqual(expected);
  });

  it('splits the same values whatever the chunk boundaries', async () => {
    // given: every chunk size from one byte up, so each boundary falls everywhere once
    for (const size of [1, 2, 3, 5, 7, 11, 16]) {
      // when
      const records = await split(raw, size);
      // then
      expect(records).toStrictEqual(expected);
    }
  });

  it('skips mixed whitespace between values', async () => {
    // when
    const records = await split(' \t{"a":1} \r\n\t [2]\n\n  {"b":"x y"}\r\n');
    // then
    expect(records).toStrictEqual([
      [1, '{"a":1}'],
      [2, '[2]'],
      [3, '{"b":"x y"}'],
    ]);
  });

  it('reads gunzipped raw-format bytes', async () => {
    // given
    const body = Readable.from([gzipSync(Buffer.from(raw))]).pipe(createGunzip());
    // when
    const records: string[] = [];
    for await (const record of splitArchiveRecords(body)) records.push(record.data.toString());
    // then
    expect(records).toStrictEqual(tricky.map((value) => JSON.stringify(value)));
  });

  it('hands on a corrupt tail as one record', async () => {
    // when
    const records = await split('{"a":1}{"b":"cut {', 4);
    // then
    expect(records).toStrictEqual([
      [1, '{"a":1}'],
      [2, '{"b":"cut {'],
    ]);
  });

  it('hands on a run between concatenated values that is not JSON as one record', async () => {
    // when
    const records = await split('{"a":1}not json{"b":2}');
    // then
    expect(records).toStrictEqual([
      [1, '{"a":1}'],
      [2, 'not json'],
      [3, '{"b":2}'],
    ]);
  });

  it('ends a value at a closing bracket that does not match', async () => {
    // when
    const records = await split('{"a":[1}{"b":2}');
    // then
    expect(records).toStrictEqual([
      [1, '{"a":[1}'],
      [2, '{"b":2}'],
    ]);
  });

  it('hands on an NDJSON line cut inside a string as one record and reads the next line', async () => {
    // when
    const records = await split('{"a":1}\n{"b":"cut\n{"c":3}\n', 3);
    // then: JSON escapes newlines in strings, so the raw newline ends the cut line
    expect(records).toStrictEqual([
      [1, '{"a":1}'],
      [2, '{"b":"cut'],
      [3, '{"c":3}'],
    ]);
  });

  it('hands on a truncated NDJSON line outside strings as one record and reads the next line', async () => {
    // when
    const records = await split('{"a":1}\n{"b":2,\n{"c":3}\nnot json\n{"d":4}', 2);
    // then
    expect(records).toStrictEqual([
      [1, '{"a":1}'],
      [2, '{"b":2,'],
      [3, '{"c":3}'],
      [4, 'not json'],
      [5, '{"d":4}'],
    ]);
  });

  it('numbers the lines of text that is not JSON, skipping blank ones', async () => {
    // when
    const records = await split('\nalpha,1\r\n  \nbeta,2\ngamma', 3);
    // then
    expect(records).toStrictEqual([
      [2, 'alpha,1'],
      [4, 'beta,2'],
      [5, 'gamma'],
    ]);
  });

  it('cuts a record longer than the limit into pieces, holding no more than the limit', async () => {
    // when
    const records = await split(`{"a":"${'x'.repeat(20)}"}{"b":1}`, 4, 10);
    // then
    expect(records.map(([, data]) => data)).toStrictEqual([
      '{"a":"xxxx',
      'xxxxxxxxxx',
      'xxxxxx"}',
      '{"b":1}',
    ]);
  });
});
