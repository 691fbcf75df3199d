/** Runs watch-mode updates one at a time; see {@link updateQueue}. */
export interface UpdateQueue {
  /** A burst of changed paths, first seen at `changedAt` (epoch ms). */
  push(paths: readonly string[], changedAt: number): void;
  /** Resolves once every update pushed so far has run. */
  settled(): Promise<void>;
}

/**
 * Runs `update` for each burst of changes, one at a time. Bursts that come while an update runs
 * wait for it and then run as one update with every path they named (and the time the first was
 * seen): none is dropped, so a stack edit that follows a handler edit still gets its synth.
 * An update that throws is given to `onError`; the queue goes on.
 */
export function updateQueue(
  update: (paths: string[], changedAt: number) => Promise<void>,
  onError: (error: unknown) => void,
): UpdateQueue {
  let chain: Promise<void> = Promise.resolve();
  let waiting: { paths: Set<string>; changedAt: number } | undefined;
  return {
    push(paths, changedAt) {
      if (waiting) {
        for (const path of paths) waiting.paths.add(path);
        return;
      }
      const next = { paths: new Set(paths), changedAt };
      waiting = next;
      chain = chain
        .then(() => {
          waiting = undefined;
          return update([...next.paths].sort(), next.changedAt);
        })
        .catch(onError);
    },
    settled: () => chain,
  };
}
