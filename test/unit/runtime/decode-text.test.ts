import { bytes, json, memoryDeadLetters, microBatch, utf8 } from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';
import { kplAggregate } from '../../fixtures/kpl';

// Records whose data is plain base64 of ASCII are decoded straight to text; these pin that every
// other record still decodes (or is dead-lettered) exactly as through its bytes.
async function decoded<T>(
  decode: Parameters<typeof microBatch<T>>[0]['decode'],
  raw: string | readonly string[],
) {
  const sink = memoryDeadLetters();
  const seen: T[] = [];
  const handler = microBatch({
    decode,
    deadLetters: sink,
    jobs: { collect: ({ records }) => void seen.push(...records.map((record) => record.data)) },
  });
  const raws = typeof raw === 'string' ? [raw] : raw;
  await handler(kinesisEvent(raws.map((data) => ({ raw: data }))), lambdaContext());
  return { seen, reasons: sink.letters.map((letter) => letter.reason) };
}

const base64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64');

describe('decoding a record’s text', () => {
  it('decodes JSON with characters beyond ASCII as UTF-8', async () => {
    // Given
    const raw = base64('{"name":"Zoë","city":"東京","mood":"🚀"}');

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(seen).toStrictEqual([{ name: 'Zoë', city: '東京', mood: '🚀' }]);
    expect(reasons).toStrictEqual([]);
  });

  it('decodes UTF-8 text beyond ASCII with utf8()', async () => {
    // Given
    const raw = base64('naïve café');

    // When
    const { seen } = await decoded(utf8(), raw);

    // Then
    expect(seen).toStrictEqual(['naïve café']);
  });

  it('dead-letters a lone Latin-1 byte as invalid UTF-8, not as the character it is in Latin-1', async () => {
    // Given: {"a":"é"} with é as the single byte 0xE9
    const raw = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]).toString(
      'base64',
    );

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid UTF-8']);
  });

  it('dead-letters base64 with whitespace inside as invalid base64', async () => {
    // Given: {"a":1} in base64 with four spaces inside, a length that is still a multiple of 4
    const raw = `${base64('{"a":1}').slice(0, 4)}    ${base64('{"a":1}').slice(4)}`;

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(raw).toHaveLength(16);
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid base64']);
  });

  it('dead-letters base64 with whitespace inside whose bytes, read as Latin-1, are as long in UTF-8 as the padding promises', async () => {
    // Given: six bytes, three of them ≥ 0x80, then four spaces: 12 characters promise 9 bytes,
    // and "AAAééé" is 9 bytes in UTF-8, though only 6 were decoded
    const raw = `${base64(Buffer.from([0x41, 0x41, 0x41, 0xe9, 0xe9, 0xe9]))}    `;

    // When
    const { seen, reasons } = await decoded(utf8(), raw);

    // Then
    expect(raw).toHaveLength(12);
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid base64']);
  });

  it('dead-letters base64 with a stray character after its last group as invalid base64', async () => {
    // Given: {"a":123} in unpadded base64 (12 characters), then one more that decodes to no byte
    const raw = `${base64('{"a":123}')}Q`;

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(raw).toHaveLength(13);
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid base64']);
  });

  it('dead-letters unpadded base64 of one byte as invalid base64', async () => {
    // Given: "1" in base64 without its "==", which atob and Buffer would both take
    const raw = 'MQ';

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid base64']);
  });

  it('decodes padded base64 with URL-safe characters through its bytes rather than failing the batch', async () => {
    // Given: {"a":"???"} with "/" written as "_", which Buffer takes and atob refuses
    const raw = base64('{"a":"???"}').replace('/', '_');

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(raw).toContain('_');
    expect(seen).toStrictEqual([{ a: '???' }]);
    expect(reasons).toStrictEqual([]);
  });

  it('hands an empty record to a bytes decoder as zero bytes', async () => {
    // Given: Kinesis allows a record of no data
    const raw = '';

    // When
    const { seen, reasons } = await decoded(bytes(), raw);

    // Then
    expect(seen.map((value) => value.byteLength)).toStrictEqual([0]);
    expect(reasons).toStrictEqual([]);
  });

  it('decodes a record more than twice the size of the first one whole', async () => {
    // Given: 200 KiB of bytes, beyond the decode buffer's first size and its double
    const payload = Buffer.alloc(200 * 1024, 0x5a);
    payload[payload.length - 1] = 0x21;

    // When
    const { seen, reasons } = await decoded(bytes(), base64(payload));

    // Then
    expect(reasons).toStrictEqual([]);
    expect(seen).toHaveLength(1);
    expect(Buffer.from(seen[0] as Uint8Array).equals(payload)).toBe(true);
  });

  it('dead-letters a byte that is not UTF-8 right after the first one', async () => {
    // Given: "\xff" with the bad byte second, where the check for a replaced character starts
    const raw = Buffer.from([0x22, 0xff, 0x22]).toString('base64');

    // When
    const { seen, reasons } = await decoded(json(), raw);

    // Then
    expect(seen).toStrictEqual([]);
    expect(reasons).toStrictEqual(['invalid UTF-8']);
  });

  it('takes a record for a KPL aggregate only when all four of its first bytes are the magic', async () => {
    // Given: four 24-byte records, each with three of the four magic bytes
    const magic = [0xf3, 0x89, 0x9a, 0xc2];
    const records = magic.map((_, wrong) => {
      const record = Buffer.alloc(24, 0x41);
      magic.forEach((byte, i) => {
        record[i] = i === wrong ? 0x41 : byte;
      });
      return record;
    });

    // When
    const { seen, reasons } = await decoded(
      bytes(),
      records.map((record) => base64(record)),
    );

    // Then
    expect(reasons).toStrictEqual([]);
    expect(seen.map((data) => Buffer.from(data))).toStrictEqual(records);
  });

  it('hands a decoder with fromText the text of every record, never its bytes', async () => {
    // Given: a decoder of its own whose two ways can be told apart, and records of ASCII, of
    // UTF-8 beyond ASCII, and inside a KPL aggregate (those two decode through the buffer)
    const decoder = {
      fromBytes: (raw: Uint8Array) => `bytes:${Buffer.from(raw).toString('utf8')}`,
      fromText: (text: string) => `text:${text}`,
    };
    const aggregate = await kplAggregate([{ partitionKey: 'a', data: 'Zoë' }]);

    // When
    const { seen, reasons } = await decoded(decoder, [base64('plain'), base64('café'), aggregate]);

    // Then
    expect(reasons).toStrictEqual([]);
    expect(seen).toStrictEqual(['text:plain', 'text:café', 'text:Zoë']);
  });

  it.each([
    ['0x00', 0x00, 1],
    ['0x64', 0x64, 1],
    ['0x67', 0x67, 1],
    ['0x68', 0x68, 1],
    ['0x7B ({)', 0x7b, 1],
    ['0x7C', 0x7c, 1],
    ['0x7F', 0x7f, 1],
    ['0x80', 0x80, 0],
    ['0xC3 (é in UTF-8)', 0xc3, 0],
    ['0xF3 (a KPL aggregate)', 0xf3, 0],
  ])(
    'decodes a record whose first byte is %s as text in one step only if it is ASCII',
    async (_, first, textDecodes) => {
      // Given: the first byte, then ASCII; every record of ASCII goes straight to text, and one that
      // starts above 0x7F is not decoded as text first only to be decoded again as bytes
      const raw = base64(Buffer.from([first, 0x41, 0x42, 0x43, 0x44, 0x45]));
      const atob = jest.spyOn(globalThis, 'atob');
      let calls: unknown[][];

      // When
      try {
        await decoded(utf8(), raw);
      } finally {
        calls = [...atob.mock.calls];
        atob.mockRestore();
      }

      // Then
      expect(calls).toStrictEqual(textDecodes ? [[raw]] : []);
    },
  );

  it('decodes a batch of many records through their bytes', async () => {
    // Given: 100 records for a decoder of bytes, each its own size
    const records = Array.from({ length: 100 }, (_, n) => Buffer.alloc(100 + n, n));

    // When
    const { seen, reasons } = await decoded(
      bytes(),
      records.map((record) => base64(record)),
    );

    // Then
    expect(reasons).toStrictEqual([]);
    expect(seen.map((data) => Buffer.from(data))).toStrictEqual(records);
  });

  it('decodes a first record larger than the decode buffer whole', async () => {
    // Given: a fresh runtime, whose buffer has its first size, and a 100 KiB record
    const payload = Buffer.alloc(100 * 1024, 0x42);
    const decoded: Uint8Array[] = [];

    // When
    await jest.isolateModulesAsync(async () => {
      const runtime = await import('driverless/runtime');
      const handler = runtime.microBatch({
        decode: runtime.bytes(),
        deadLetters: runtime.memoryDeadLetters(),
        jobs: { collect: ({ records }) => void decoded.push(...records.map((r) => r.data)) },
      });
      await handler(kinesisEvent([{ raw: payload.toString('base64') }]), lambdaContext());
    });

    // Then
    expect(decoded.map((data) => Buffer.from(data).equals(payload))).toStrictEqual([true]);
  });
});
