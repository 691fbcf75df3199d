/**
 * The replay set: one record per function however many messages name it, the messages that share
 * a record's fate, and the reason a dry run reports for it.
 */
import { type FailureMessage, type ReplayFields, ReplaySet } from '../../../cli/redrive/replay-set';
import { QUEUE, STREAM } from '../../fixtures/redrive-fakes';

/** Record `s:1` (sub-record `subSequenceNumber` of it, if given) as a letter names it. */
function fields(subSequenceNumber?: number): ReplayFields {
  return {
    shardId: 's',
    streamArn: STREAM,
    sequenceNumber: '1',
    subSequenceNumber,
    partitionKey: 'k',
    data: Buffer.from('{"n":1}').toString('base64'),
    approximateArrivalTimestamp: 1_795_000_000.5,
  };
}

/** A message of the queue, with receipt handle `handle`. */
function queued(set: ReplaySet, handle: string): FailureMessage {
  return set.message({ kind: 'sqs', queueUrl: QUEUE, receiptHandle: handle });
}

describe('ReplaySet records', () => {
  it('keeps two sub-records of one aggregate apart', () => {
    // Given
    const set = new ReplaySet();
    const message = queued(set, 'h0');

    // When
    set.add(message, 'fn', fields(1), 'letter');
    set.add(message, 'fn', fields(2), 'letter');

    // Then
    expect(set.records.size).toBe(2);
  });

  it('lists a record once in a message that names it twice', () => {
    // Given: an object of letters holding two letters of one record (a retried batch)
    const set = new ReplaySet();
    const message = set.message({ kind: 's3', bucket: 'b', key: 'k' }, 2);

    // When
    set.add(message, 'fn', fields(), 'letter');
    set.add(message, 'fn', fields(), 'letter');

    // Then
    expect(message.records).toHaveLength(1);
  });

  it('holds no message without a receipt handle', () => {
    // Given
    const set = new ReplaySet();

    // When
    set.hold(QUEUE, undefined);

    // Then
    expect([...set.held]).toStrictEqual([]);
  });
});

describe('ReplaySet letters without payload', () => {
  it('gives a letter without payload the record another letter holds', () => {
    // Given: one letter with the payload, another of the same record whose payload is gone
    const set = new ReplaySet();
    const record = set.add(queued(set, 'h0'), 'fn', fields(), 'letter');
    const withoutPayload = queued(set, 'h1');
    set.withoutPayloadOf(withoutPayload, 'fn', fields(), 's:1 (payload gone)');

    // When
    set.settle();

    // Then: it shares the record's fate, deleted only if the record recovers
    expect({
      records: withoutPayload.records,
      incomplete: withoutPayload.incomplete,
      notRecoverable: set.notRecoverableIds,
    }).toStrictEqual({ records: [record], incomplete: false, notRecoverable: [] });
  });

  it('lists the record once in an object holding its letter and a copy without payload', () => {
    // Given
    const set = new ReplaySet();
    const object = set.message({ kind: 's3', bucket: 'b', key: 'k' }, 2);
    set.add(object, 'fn', fields(), 'letter');
    set.withoutPayloadOf(object, 'fn', fields(), 's:1 (no data)');

    // When
    set.settle();

    // Then
    expect(object.records).toHaveLength(1);
  });
});

describe('ReplaySet drop', () => {
  it('keeps every message naming a record it takes out of the replay', () => {
    // Given
    const set = new ReplaySet();
    const message = queued(set, 'h0');
    const record = set.add(message, 'fn', fields(), 'letter');

    // When
    set.drop(record, 's:1 (too large)');

    // Then
    expect({ incomplete: message.incomplete, records: set.records.size }).toStrictEqual({
      incomplete: true,
      records: 0,
    });
  });
});

describe('ReplaySet reasons', () => {
  it("takes a letter's reason over an on-failure pointer's condition", () => {
    // Given
    const set = new ReplaySet();
    set.add(queued(set, 'h0'), 'fn', fields(), 'pointer', 'RetryAttemptsExhausted');

    // When
    const record = set.add(queued(set, 'h1'), 'fn', fields(), 'letter', 'invalid JSON: x');

    // Then
    expect(record.reason).toBe('invalid JSON: x');
  });

  it('keeps the reason of the first letter naming the record', () => {
    // Given
    const set = new ReplaySet();
    set.add(queued(set, 'h0'), 'fn', fields(), 'letter', 'invalid JSON: x');

    // When
    const record = set.add(queued(set, 'h1'), 'fn', fields(), 'letter', 'job failed');

    // Then
    expect(record.reason).toBe('invalid JSON: x');
  });

  it("keeps the first on-failure pointer's condition", () => {
    // Given
    const set = new ReplaySet();
    set.add(queued(set, 'h0'), 'fn', fields(), 'pointer', 'RetryAttemptsExhausted');

    // When
    const record = set.add(queued(set, 'h1'), 'fn', fields(), 'pointer', 'RecordAgeExceeded');

    // Then
    expect(record.reason).toBe('RetryAttemptsExhausted');
  });

  it('keeps the reason it has when a letter gives none', () => {
    // Given
    const set = new ReplaySet();
    set.add(queued(set, 'h0'), 'fn', fields(), 'pointer', 'RetryAttemptsExhausted');

    // When
    const record = set.add(queued(set, 'h1'), 'fn', fields(), 'letter');

    // Then
    expect(record.reason).toBe('RetryAttemptsExhausted');
  });
});
