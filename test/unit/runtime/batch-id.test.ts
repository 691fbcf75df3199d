import { createHash } from 'node:crypto';
import { batchIdOf, json, type KinesisEvent } from 'driverless/runtime';
import { decodeEvent } from '../../../functions/runtime/decode-event';
import { kinesisEvent, SHARD_ID, STREAM_ARN, sequenceNumber } from '../../fixtures/kinesis-events';

const sha256Prefix = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);
const idOf = (event: Partial<KinesisEvent>) =>
  batchIdOf(decodeEvent(event as KinesisEvent, json()));
const WINDOW = { start: '2026-12-02T10:00:00Z', end: '2026-12-02T10:05:00Z' };

describe('batch ids across versions', () => {
  it('is the first 32 hex digits of the SHA-256 of stream, shard and first and last sequence number', () => {
    // Given: ids a deployed version already handed to jobs, which a retry after an upgrade must see again
    const batch = {
      streamArn: STREAM_ARN,
      shardId: SHARD_ID,
      firstSequenceNumber: sequenceNumber(0),
      lastSequenceNumber: sequenceNumber(90),
      window: undefined,
    };
    const expected = createHash('sha256')
      .update(`${STREAM_ARN}|${SHARD_ID}|${sequenceNumber(0)}|${sequenceNumber(90)}`)
      .digest('hex')
      .slice(0, 32);

    // When
    const id = batchIdOf(batch as never);

    // Then
    expect(id).toBe(expected);
  });

  it('names the window of a batch with records, and not the state the window carries', () => {
    // Given: the same two records in a window, with two states
    const records = kinesisEvent([{ data: { n: 0 } }, { data: { n: 1 } }]).Records;

    // When
    const ids = [{ a: 1 }, { a: 2 }].map((state) =>
      idOf({ Records: records, window: WINDOW, state }),
    );

    // Then
    const expected = sha256Prefix(
      `${STREAM_ARN}|${SHARD_ID}|${sequenceNumber(0)}|${sequenceNumber(10)}|${WINDOW.start}|${WINDOW.end}`,
    );
    expect(ids).toStrictEqual([expected, expected]);
  });

  it.each([
    [true, false],
    [true, true],
    [undefined, undefined],
  ])(
    'names the window, how it ended (final %s, early %s) and its state for an invocation without records',
    (final, early) => {
      // Given
      const event = {
        Records: [],
        window: WINDOW,
        state: { a: 1 },
        shardId: SHARD_ID,
        eventSourceARN: STREAM_ARN,
        isFinalInvokeForWindow: final,
        isWindowTerminatedEarly: early,
      };

      // When
      const id = idOf(event);

      // Then
      expect(id).toBe(
        sha256Prefix(
          `${STREAM_ARN}|${SHARD_ID}|undefined|undefined|${WINDOW.start}|${WINDOW.end}|${final === true}|${early === true}|{"a":1}`,
        ),
      );
    },
  );

  it('is that of no stream, shard or records for an event of no records outside a window', () => {
    expect(idOf({ Records: [] })).toBe(sha256Prefix('||undefined|undefined'));
  });
});
