import { SettledTracker } from '../../../cli/put/settled-tracker';
import type { SettledPage } from '../../../emulator/index';

const MAPPINGS = [
  { uuid: 'm1', label: 'orders-fn' },
  { uuid: 'm2', label: 'orders-recommendations' },
];

function page(next: number, batches: SettledPage['batches'], oldest = 0): SettledPage {
  return { next, oldest, batches };
}

describe('SettledTracker', () => {
  it('accounts a record once every mapping has settled it', () => {
    // Given
    const tracker = new SettledTracker(MAPPINGS, 0);
    tracker.sent({ shardId: 's0', sequenceNumber: '1' });

    // When only one mapping settled it
    tracker.take(
      page(1, [{ mapping: 'm1', shardId: 's0', outcome: 'processed', sequenceNumbers: ['1'] }]),
    );

    // Then
    expect(tracker.missing).toBe(1);
  });

  it('counts what each mapping did with the records', () => {
    // Given
    const tracker = new SettledTracker(MAPPINGS, 0);
    tracker.sent({ shardId: 's0', sequenceNumber: '1' });
    tracker.sent({ shardId: 's0', sequenceNumber: '2' });

    // When
    tracker.take(
      page(2, [
        { mapping: 'm1', shardId: 's0', outcome: 'processed', sequenceNumbers: ['1', '2'] },
        { mapping: 'm2', shardId: 's0', outcome: 'discarded', sequenceNumbers: ['1', '2'] },
      ]),
    );

    // Then
    expect(tracker.tallies()).toStrictEqual([
      { label: 'orders-fn', processed: 2, filtered: 0, discarded: 0, missing: 0 },
      { label: 'orders-recommendations', processed: 0, filtered: 0, discarded: 2, missing: 0 },
    ]);
  });

  it('accounts a record settled before its put was answered', () => {
    // Given the mapping settled record 7 before PutRecords returned it
    const tracker = new SettledTracker([MAPPINGS[0] as (typeof MAPPINGS)[number]], 0);
    tracker.take(
      page(1, [{ mapping: 'm1', shardId: 's0', outcome: 'filtered', sequenceNumbers: ['7'] }]),
    );

    // When
    tracker.sent({ shardId: 's0', sequenceNumber: '7' });

    // Then
    expect(tracker.tallies()[0]).toMatchObject({ filtered: 1, missing: 0 });
  });

  it("ignores other producers' records", () => {
    // Given
    const tracker = new SettledTracker([MAPPINGS[0] as (typeof MAPPINGS)[number]], 0);
    tracker.sent({ shardId: 's0', sequenceNumber: '2' });

    // When another producer's record 1 settles
    tracker.take(
      page(1, [{ mapping: 'm1', shardId: 's0', outcome: 'processed', sequenceNumbers: ['1'] }]),
    );

    // Then
    expect({ missing: tracker.missing, processed: tracker.tallies()[0]?.processed }).toStrictEqual({
      missing: 1,
      processed: 0,
    });
  });

  it('says it lost track when the stack dropped batches it had not read', () => {
    // Given a tracker at position 3
    const tracker = new SettledTracker(MAPPINGS, 3);

    // When the oldest batch kept is 10
    tracker.take(page(12, [], 10));

    // Then
    expect(tracker.lostTrack).toBe(true);
  });
});
