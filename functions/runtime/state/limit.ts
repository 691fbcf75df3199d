/**
 * Runs `task` over `items` with at most `limit` in flight. After a failure no new task starts,
 * and it rejects with the first error only once the tasks in flight have ended: nothing of a
 * failed batch keeps writing state after its invocation returns (Lambda would resume that work
 * in the next invocation of the environment, beside the batch's retry).
 */
export async function forEachLimit<I>(
  items: readonly I[],
  limit: number,
  task: (item: I) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < items.length) {
      const item = items[next++] as I;
      try {
        await task(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
