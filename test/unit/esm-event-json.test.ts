import { batchEvent, toStreamRecord, windowEvent } from '../../emulator/esm/kinesisEvent';
import { jsonTextOf, withJsonText } from '../../emulator/event-json';

// The mapping hands the function host a batch's JSON text built from the records' own JSON; it
// must be exactly what serializing the event would give.

const SOURCE = {
  invokeIdentityArn: 'arn:aws:iam::000000000000:role/r',
  awsRegion: 'us-east-1',
  streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/orders',
};

function streamRecords(count: number) {
  return Array.from({ length: count }, (_, n) =>
    toStreamRecord(SOURCE, 'shardId-000000000000', {
      SequenceNumber: String(49590338271490256608559692538361571095921575989136588800n + BigInt(n)),
      PartitionKey: `k"${n}`,
      Data: Buffer.from(JSON.stringify({ n, text: 'ünïcode "quoted"' })),
      ApproximateArrivalTimestamp: new Date(Date.UTC(2026, 0, 1) + n),
    }),
  );
}

describe('event JSON text', () => {
  it.each([0, 1, 3])('a batch of %i records has the text JSON.stringify gives', (count) => {
    // Given
    const event = batchEvent(streamRecords(count));
    // When
    const text = jsonTextOf(event);
    // Then
    expect(text).toBe(JSON.stringify(event));
  });

  it.each([
    ['an empty key and no data', '', new Uint8Array(), 0],
    ['quotes and backslashes', 'k"\\"', Buffer.from('"'), 1767225600123],
    ['control characters and U+2028', '\u0000\u001f\u2028', Buffer.from([0xff]), 1767225600000.5],
    ['a lone surrogate and an emoji', '\ud800🚀', Buffer.alloc(100, 7), 1],
  ])('a record with %s has the text JSON.stringify gives', (_, partitionKey, data, arrivalMs) => {
    // Given: a second source beside SOURCE, with characters to escape in its ARNs
    const other = {
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/"r"',
      awsRegion: 'eu-west-1',
      streamArn: 'arn:aws:kinesis:eu-west-1:000000000000:stream/\\s',
    };
    // When
    const records = [SOURCE, other, SOURCE].map((source) =>
      toStreamRecord(source, 'shardId-000000000001', {
        SequenceNumber: '49590338271490256608559692538361571095921575989136588800',
        PartitionKey: partitionKey,
        Data: data,
        ApproximateArrivalTimestamp: new Date(arrivalMs),
      }),
    );
    // Then
    for (const record of records) {
      expect(record.json).toBe(JSON.stringify(record.eventRecord));
      expect(record.sizeBytes).toBe(record.json.length);
    }
    expect(JSON.parse(records[1]?.json ?? '').eventSourceARN).toBe(other.streamArn);
  });

  it('a window event has the text JSON.stringify gives, window fields after Records', () => {
    // Given
    const event = windowEvent(streamRecords(2), 'shardId-000000000000', SOURCE.streamArn, {
      start: '2026-01-01T00:00:00Z',
      end: '2026-01-01T00:01:00Z',
      state: { total: 3, nested: { a: [1, 2] } },
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
    });
    // When
    const text = jsonTextOf(event);
    // Then
    expect(text).toBe(JSON.stringify(event));
  });

  it('an event without remembered text is serialized', () => {
    // Given
    const event = { Records: [{ a: 1 }] };
    // When
    const text = jsonTextOf(event);
    // Then
    expect(text).toBe('{"Records":[{"a":1}]}');
  });

  it('a remembered text is returned as given', () => {
    // Given
    const event = withJsonText({ a: 1 }, '{"a":1}');
    // When
    const text = jsonTextOf(event);
    // Then
    expect(text).toBe('{"a":1}');
  });
});
