/**
 * Record order in a shard: sequence numbers as big integers, then KPL sub-sequence numbers. The
 * runtime's checkpoint (the lowest failed position) and the cursors' resume points rest on it.
 */
import {
  comparePositions,
  compareSequenceNumbers,
  isSequenceNumber,
  lowestPosition,
} from '../../../functions/kinesis/index';

// Numeric order; as strings the larger one sorts first.
const LOW = '9'.repeat(56);
const HIGH = `1${'0'.repeat(56)}`;

describe('compareSequenceNumbers', () => {
  it('orders a lower sequence number first', () => {
    // When
    const order = compareSequenceNumbers(LOW, HIGH);

    // Then
    expect(order).toBe(-1);
  });

  it('orders a higher sequence number last', () => {
    // When
    const order = compareSequenceNumbers(HIGH, LOW);

    // Then
    expect(order).toBe(1);
  });

  it('finds equal sequence numbers equal', () => {
    // When
    const order = compareSequenceNumbers(HIGH, `${HIGH}`);

    // Then
    expect(order).toBe(0);
  });
});

describe('isSequenceNumber', () => {
  it('accepts a decimal string and rejects anything else', () => {
    // When
    const answers = [HIGH, '', '12a', '-1', ' 1'].map(isSequenceNumber);

    // Then
    expect(answers).toStrictEqual([true, false, false, false, false]);
  });
});

describe('comparePositions', () => {
  it('orders by sequence number before sub-sequence number', () => {
    // When
    const order = comparePositions(
      { sequenceNumber: LOW, subSequenceNumber: 5 },
      { sequenceNumber: HIGH, subSequenceNumber: 0 },
    );

    // Then
    expect(order).toBeLessThan(0);
  });

  it('orders sub-records of one aggregate by sub-sequence number', () => {
    // When
    const order = [
      comparePositions(
        { sequenceNumber: HIGH, subSequenceNumber: 2 },
        { sequenceNumber: HIGH, subSequenceNumber: 1 },
      ),
      comparePositions(
        { sequenceNumber: HIGH, subSequenceNumber: 1 },
        { sequenceNumber: HIGH, subSequenceNumber: 2 },
      ),
    ].map(Math.sign);

    // Then
    expect(order).toStrictEqual([1, -1]);
  });

  it('orders a whole record before its first sub-record', () => {
    // When
    const order = [
      comparePositions({ sequenceNumber: HIGH }, { sequenceNumber: HIGH, subSequenceNumber: 0 }),
      comparePositions({ sequenceNumber: HIGH, subSequenceNumber: 0 }, { sequenceNumber: HIGH }),
    ].map(Math.sign);

    // Then
    expect(order).toStrictEqual([-1, 1]);
  });

  it('finds a position equal to itself', () => {
    // When
    const order = comparePositions(
      { sequenceNumber: HIGH, subSequenceNumber: 3 },
      { sequenceNumber: HIGH, subSequenceNumber: 3 },
    );

    // Then
    expect(order).toBe(0);
  });
});

describe('lowestPosition', () => {
  it('is undefined for no positions', () => {
    // When
    const lowest = lowestPosition([]);

    // Then
    expect(lowest).toBeUndefined();
  });

  it('picks the lowest sub-record wherever it is listed', () => {
    // Given
    const first = { sequenceNumber: HIGH, subSequenceNumber: 4 };
    const lowest = { sequenceNumber: HIGH, subSequenceNumber: 1 };
    const last = { sequenceNumber: HIGH, subSequenceNumber: 2 };

    // When
    const found = lowestPosition([first, lowest, last]);

    // Then
    expect(found).toBe(lowest);
  });

  it('keeps the first of equal positions', () => {
    // Given
    const first = { sequenceNumber: LOW, subSequenceNumber: 1 };
    const same = { sequenceNumber: LOW, subSequenceNumber: 1 };

    // When
    const found = lowestPosition([{ sequenceNumber: HIGH }, first, same]);

    // Then
    expect(found).toBe(first);
  });
});
