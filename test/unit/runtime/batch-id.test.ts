import { createHash } from 'node:crypto';
import { batchIdOf } from 'driverless/runtime';
import { SHARD_ID, STREAM_ARN, sequenceNumber } from '../../fixtures/kinesis-events';

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
});
