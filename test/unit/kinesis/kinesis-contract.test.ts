/** What functions/kinesis promises its users: the runtime, the emulator, `driverless run`, redrive. */
import {
  isOnFailurePointer,
  kinesisEventRecord,
  kinesisEventRecordJson,
  onFailureRecord,
  openWindow,
  windowBounds,
  windowStartOf,
} from '../../../functions/kinesis/index';

const FIELDS = {
  shardId: 'shardId-000000000001',
  sequenceNumber: '49590338271490256608559692538361571095921575989136588898',
  partitionKey: 'pk',
  data: 'aGVsbG8=',
  approximateArrivalTimestamp: 1545084650.987,
  awsRegion: 'eu-west-1',
  eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/s',
};

describe('kinesisEventRecord', () => {
  it('writes every key in the order AWS sends them', () => {
    // When
    const record = kinesisEventRecord({ ...FIELDS, invokeIdentityArn: 'arn:aws:iam::1:role/r' });

    // Then
    expect(JSON.stringify(record)).toBe(
      '{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"pk",' +
        `"sequenceNumber":"${FIELDS.sequenceNumber}","data":"aGVsbG8=",` +
        '"approximateArrivalTimestamp":1545084650.987},"eventSource":"aws:kinesis",' +
        `"eventVersion":"1.0","eventID":"shardId-000000000001:${FIELDS.sequenceNumber}",` +
        '"eventName":"aws:kinesis:record","invokeIdentityArn":"arn:aws:iam::1:role/r",' +
        `"awsRegion":"eu-west-1","eventSourceARN":"${FIELDS.eventSourceARN}"}`,
    );
  });

  it('leaves invokeIdentityArn out when the sender does not know the role', () => {
    // When
    const record = kinesisEventRecord(FIELDS);

    // Then
    expect(Object.keys(record)).not.toContain('invokeIdentityArn');
  });
});

describe('kinesisEventRecordJson', () => {
  it.each([
    ['with the role', { ...FIELDS, invokeIdentityArn: 'arn:aws:iam::1:role/"r"' }],
    ['without the role', FIELDS],
    ['with keys to escape', { ...FIELDS, partitionKey: '\u0000"\\\u2028\ud800🚀', shardId: 's"' }],
    ['with a whole-second arrival', { ...FIELDS, approximateArrivalTimestamp: 1545084650 }],
  ])('is the JSON of the record, %s', (_, fields) => {
    // When
    const json = kinesisEventRecordJson(fields);

    // Then
    expect(json).toBe(JSON.stringify(kinesisEventRecord(fields)));
  });
  it('names the source of each record when records of two sources alternate', () => {
    // Given
    const other = {
      ...FIELDS,
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:1:stream/t',
    };

    // When
    const written = [FIELDS, other, FIELDS, other].map((fields) => kinesisEventRecordJson(fields));

    // Then
    expect(written).toStrictEqual(
      [FIELDS, other, FIELDS, other].map((fields) => JSON.stringify(kinesisEventRecord(fields))),
    );
  });
});

describe('tumbling windows', () => {
  it('aligns a window on a multiple of its length', () => {
    // When
    const start = windowStartOf(Date.parse('2020-12-09T07:04:59.999Z'), 60_000);

    // Then
    expect(new Date(start).toISOString()).toBe('2020-12-09T07:04:00.000Z');
  });

  it('writes bounds as ISO-8601 UTC without milliseconds', () => {
    // Given
    const window = openWindow(Date.parse('2020-12-09T07:04:00Z'), 60_000);

    // When
    const bounds = windowBounds(window);

    // Then
    expect(bounds).toStrictEqual({ start: '2020-12-09T07:04:00Z', end: '2020-12-09T07:05:00Z' });
  });
});

describe('on-failure records', () => {
  it('are read back as pointers to the range they were written for', () => {
    // Given
    const record = onFailureRecord({
      functionArn: 'arn:aws:lambda:eu-west-1:1:function:f',
      streamArn: FIELDS.eventSourceARN,
      shardId: FIELDS.shardId,
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 1,
      records: [
        { sequenceNumber: '10', arrivalMs: 0 },
        { sequenceNumber: '12', arrivalMs: 5 },
      ],
      now: new Date(0),
    });

    // When
    const readable = isOnFailurePointer(JSON.parse(JSON.stringify(record)));

    // Then
    expect({ readable, info: record.KinesisBatchInfo }).toStrictEqual({
      readable: true,
      info: {
        shardId: FIELDS.shardId,
        startSequenceNumber: '10',
        endSequenceNumber: '12',
        approximateArrivalOfFirstRecord: '1970-01-01T00:00:00.000Z',
        approximateArrivalOfLastRecord: '1970-01-01T00:00:00.005Z',
        batchSize: 2,
        streamArn: FIELDS.eventSourceARN,
      },
    });
  });

  it('fails if a range bound is not a decimal sequence number', () => {
    // Given
    const value = {
      KinesisBatchInfo: { shardId: 's', startSequenceNumber: '1e5', endSequenceNumber: '7' },
    };

    // When / Then
    expect(isOnFailurePointer(value)).toBe(false);
  });
});
