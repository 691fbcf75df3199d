import type { EsmEvent } from '../../../emulator/esm/index';
import { SettledRecords } from '../../../emulator/settled-records';

function checkpointed(sequenceNumbers: string[]): EsmEvent {
  return {
    type: 'recordsCheckpointed',
    shardId: 's0',
    count: sequenceNumbers.length,
    firstSequenceNumber: sequenceNumbers[0] ?? '',
    lastSequenceNumber: sequenceNumbers[sequenceNumbers.length - 1] ?? '',
    sequenceNumbers,
    arrivalTimestampsMs: sequenceNumbers.map(() => 0),
  };
}

describe('SettledRecords', () => {
  it('gives a reader the batches settled after its position', () => {
    // Given
    const log = new SettledRecords();
    log.observe('m1', checkpointed(['1']));
    const start = log.since(Number.MAX_SAFE_INTEGER).next;

    // When
    log.observe('m1', checkpointed(['2', '3']));

    // Then
    expect(log.since(start)).toStrictEqual({
      next: 2,
      oldest: 0,
      batches: [
        { mapping: 'm1', shardId: 's0', outcome: 'processed', sequenceNumbers: ['2', '3'] },
      ],
    });
  });

  it('drops the oldest batches past its capacity and says so', () => {
    // Given room for three sequence numbers
    const log = new SettledRecords(3);

    // When four arrive in three batches
    log.observe('m1', checkpointed(['1', '2']));
    log.observe('m1', checkpointed(['3']));
    log.observe('m1', checkpointed(['4']));

    // Then
    expect(log.since(0)).toMatchObject({ oldest: 1, next: 3 });
  });

  it('keeps no event that settles nothing', () => {
    // Given
    const log = new SettledRecords();

    // When
    log.observe('m1', { type: 'shardStarted', shardId: 's0' } as EsmEvent);

    // Then
    expect(log.since(0).batches).toStrictEqual([]);
  });
});
