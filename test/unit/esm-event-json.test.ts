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
