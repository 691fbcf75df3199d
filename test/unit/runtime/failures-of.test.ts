import { failuresOf } from 'driverless/runtime';
import { deferred } from '../../fixtures/kinesis-events';

describe('failuresOf', () => {
  it('resolves with the items whose work threw', async () => {
    // When
    const failed = await failuresOf([1, 2, 3, 4], 2, async (n) => {
      if (n % 2 === 0) throw new Error(`no ${n}`);
    });

    // Then
    expect(failed.sort()).toStrictEqual([2, 4]);
  });

  it('works on each item once and on nothing past the last', async () => {
    // Given
    const worked: (number | undefined)[] = [];

    // When
    await failuresOf([1, 2, 3], 2, async (n) => void worked.push(n));

    // Then
    expect(worked.sort()).toStrictEqual([1, 2, 3]);
  });

  it('keeps at most `limit` calls in flight', async () => {
    // Given: calls wait until released, so the in-flight count is observable
    const release = deferred();
    let inFlight = 0;
    let peak = 0;
    const work = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await release.promise;
      inFlight--;
    };

    // When
    const done = failuresOf([1, 2, 3, 4, 5], 2, work);
    await new Promise((resolve) => setImmediate(resolve));
    release.resolve();
    await done;

    // Then
    expect(peak).toBe(2);
  });
});
