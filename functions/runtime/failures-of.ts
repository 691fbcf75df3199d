/**
 * Runs `work` over `items` with at most `limit` calls in flight, and resolves with the items whose
 * work threw: what a job returns as `{ failed }` when some writes fail and the rest succeeded.
 */
export async function failuresOf<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<T[]> {
  const failed: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item).catch(() => failed.push(item));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed;
}
