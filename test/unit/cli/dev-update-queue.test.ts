import { updateQueue } from '../../../cli/dev/update-queue';

/** An update that runs until released, recording what it was given. */
function gatedUpdates() {
  const runs: { paths: string[]; changedAt: number }[] = [];
  const gates: (() => void)[] = [];
  const update = (paths: string[], changedAt: number) =>
    new Promise<void>((resolve) => {
      runs.push({ paths, changedAt });
      gates.push(resolve);
    });
  const releaseNext = async () => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()?.();
  };
  return { runs, update, releaseNext };
}

describe('updateQueue', () => {
  it('runs the bursts that came during an update as one update with all their paths', async () => {
    // Given: an update running for a handler edit
    const { runs, update, releaseNext } = gatedUpdates();
    const queue = updateQueue(update, () => undefined);
    queue.push(['functions/a.ts'], 1);
    await new Promise((resolve) => setImmediate(resolve));

    // When: a stack edit, then another handler edit, come while it runs
    queue.push(['lib/stack.ts'], 2);
    queue.push(['functions/b.ts', 'lib/stack.ts'], 3);
    await releaseNext();
    await releaseNext();
    await queue.settled();

    // Then
    expect(runs).toStrictEqual([
      { paths: ['functions/a.ts'], changedAt: 1 },
      { paths: ['functions/b.ts', 'lib/stack.ts'], changedAt: 2 },
    ]);
  });

  it('goes on after an update that fails, giving the error to onError', async () => {
    // Given
    const errors: unknown[] = [];
    const ran: string[][] = [];
    const queue = updateQueue(
      async (paths) => {
        ran.push(paths);
        if (ran.length === 1) throw new Error('synth failed');
      },
      (error) => errors.push(error),
    );

    // When
    queue.push(['lib/stack.ts'], 1);
    await queue.settled();
    queue.push(['functions/a.ts'], 2);
    await queue.settled();

    // Then
    expect(ran).toStrictEqual([['lib/stack.ts'], ['functions/a.ts']]);
    expect(errors.map((error) => (error as Error).message)).toStrictEqual(['synth failed']);
  });
});
