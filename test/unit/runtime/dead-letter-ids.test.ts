import { deadLetterId, letterIdOf } from '../../../functions/runtime/dead-letter';

const SHARD = 'shardId-000000000001';
const SEQUENCE = '49590338271490256608559692538361571095921575989136588898';

describe('deadLetterId', () => {
  it('names a record by its shard and sequence number', () => {
    // When
    const id = deadLetterId(SHARD, SEQUENCE);

    // Then
    expect(id).toBe(`${SHARD}:${SEQUENCE}`);
  });

  it('names a KPL sub-record by its sub-sequence number too, the first one included', () => {
    // When
    const ids = [0, 1].map((sub) => deadLetterId(SHARD, SEQUENCE, sub));

    // Then
    expect(ids).toStrictEqual([`${SHARD}:${SEQUENCE}:0`, `${SHARD}:${SEQUENCE}:1`]);
  });
});

describe('letterIdOf', () => {
  const record = {
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders',
    shardId: SHARD,
    sequenceNumber: SEQUENCE,
  };

  it('differs between the sub-records of one aggregate', () => {
    // When
    const ids = [1, 2].map((sub) => letterIdOf('orders-fn', { ...record, subSequenceNumber: sub }));

    // Then
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('never changes between versions, so letters of a record written before and after an upgrade deduplicate', () => {
    // When
    const ids = [undefined, 0].map((sub) =>
      letterIdOf('orders-fn', { ...record, subSequenceNumber: sub }),
    );

    // Then: sha256 of `function|stream|shard|sequence|sub`, its first 32 hex digits
    expect(ids).toStrictEqual([
      '56ea0d5e0b837a27ff4ad5fac0bf845e',
      '6ad6217fbe10ad54a4e24471bbff3c07',
    ]);
  });
});
