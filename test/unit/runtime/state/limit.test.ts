import { forEachLimit } from '../../../../functions/runtime/state/limit';

describe('forEachLimit', () => {
  it('runs at most `limit` tasks at once, each item once', async () => {
    // Given
    let running = 0;
    let most = 0;
    const seen: number[] = [];

    // When
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(item);
      running--;
    });

    // Then
    expect({ most, seen: seen.sort() }).toStrictEqual({ most: 3, seen: [1, 2, 3, 4, 5, 6, 7] });
  });

  it('after a failure starts no new task and rejects only once the tasks in flight have ended', async () => {
    // Given: the first item fails at once while two others are still running
    const started: number[] = [];
    const ended: number[] = [];

    // When
    const outcome = await forEachLimit([1, 2, 3, 4, 5], 3, async (item) => {
      started.push(item);
      if (item === 1) throw new Error('first failed');
      await new Promise((resolve) => setTimeout(resolve, 20));
      ended.push(item);
    }).catch((error: Error) => error.message);

    // Then
    expect({ outcome, started, ended: ended.sort() }).toStrictEqual({
      outcome: 'first failed',
      started: [1, 2, 3],
      ended: [2, 3],
    });
  });
});
