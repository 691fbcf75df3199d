import { json, memoryDeadLetters, microBatch, utf8 } from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';

// Records whose data is plain base64 of ASCII are decoded straight to text; these pin that every
// other record still decodes (or is dead-lettered) exactly as through its bytes.
async function decoded<T>(decode: Parameters<typeof microBatch<T>>[0]['decode'], raw: string) {
  const sink = memoryDeadLetters();
  const seen: T[] = [];
  const handler = microBatch({
    decode,
    deadLetters: sink,
    jobs: { collect: ({ records }) => void seen.push(...records.map((record) => record.data)) },
  });
  await handler(kinesisEvent([{ raw }]), lambdaContext());
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
});
