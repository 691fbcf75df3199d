/** Runs `task` over `items` with at most `limit` in flight; rejects with the first error. */
export async function forEachLimit<I>(
  items: readonly I[],
  limit: number,
  task: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as I;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
