import type { StateItem, StateTable } from './state-table';

/** Who takes a key's lock: an attempt at a batch of one shard, or a tick (no shard). */
export interface LockOwner {
  readonly batchId: string;
  /** The shard's side and id (`left:shardId-…`); undefined for a tick. */
  readonly shard?: string;
}

/** A live holder of the key's lock kept it past the waits: the caller retries later. */
export class KeyLockHeldError extends Error {
  override readonly name = 'KeyLockHeldError';
}

interface LockBody {
  readonly holder?: string;
  /** Epoch ms after which the holder is certainly gone. */
  readonly until?: number;
}

const LOCK_SK = 'lock';
// A holder is certainly gone at its invocation's deadline (Lambda ends it there); this much more
// covers the clock skew between hosts.
const CLOCK_SKEW_MS = 2_000;
// Without a deadline (batch mode, one process) a lease this long covers a killed run's restart.
const LEASE_WITHOUT_DEADLINE_MS = 30_000;
const WAITS = 8;
const WAIT_MS = 250;
const RETAIN_S = 7 * 86_400;

/**
 * When a lease taken by an invocation with `deadline` (epoch ms; Infinity in batch mode) ends:
 * the invocation is certainly gone by then.
 */
export const leaseEnd = (deadline: number, now: number): number =>
  Number.isFinite(deadline) ? deadline + CLOCK_SKEW_MS : now + LEASE_WITHOUT_DEADLINE_MS;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` while holding the lock of partition `pk`, so that the reads and conditional writes
 * of one key are never interleaved with another invocation's. Lambda keeps one batch in flight
 * per shard, so a lock held by an earlier attempt of the same shard belongs to a dead attempt and
 * is taken over at once; any other holder is waited for until it releases the lock or its lease
 * ends (its invocation's deadline). `work` gets `held()`, which throws once the lease is over, to
 * call before each decisive write: a process frozen and thawed after its deadline must not write.
 * @throws KeyLockHeldError when a live holder keeps the lock past the waits
 */
export async function withKeyLock<V>(
  table: StateTable,
  pk: string,
  owner: LockOwner,
  deadline: number,
  work: (held: () => void) => Promise<V>,
): Promise<V> {
  const me = `${owner.batchId}@${owner.shard ?? 'tick'}`;
  const key = { pk, sk: LOCK_SK };
  let item: StateItem | undefined = (await table.get([key])).values().next().value;
  for (let wait = 0; ; ) {
    const body = (item?.body ?? {}) as LockBody;
    const now = Date.now();
    const free =
      body.holder === undefined ||
      body.holder === me ||
      (owner.shard !== undefined && body.holder.endsWith(`@${owner.shard}`)) ||
      (body.until ?? 0) <= now;
    if (free) {
      const until = leaseEnd(deadline, now);
      const lease = { holder: me, until } satisfies LockBody;
      if (
        await table.put({ ...key, body: lease, expiresAt: now / 1000 + RETAIN_S }, item?.version)
      ) {
        const version = (item?.version ?? 0) + 1;
        const held = () => {
          if (Date.now() > until) throw new Error(`the lock of ${pk} expired while held`);
        };
        try {
          return await work(held);
        } finally {
          // Conditional on the lease's version: a lease lost meanwhile stays its new holder's. A
          // release that fails leaves the lease to end at the deadline, as a killed holder's does.
          await table
            .put({ ...key, body: {}, expiresAt: Date.now() / 1000 + RETAIN_S }, version)
            .catch(() => undefined);
        }
      }
    } else {
      if (wait === WAITS) {
        throw new KeyLockHeldError(`${pk} is locked by another invocation (${body.holder})`);
      }
      wait++;
      await sleep(WAIT_MS);
    }
    item = (await table.get([key])).values().next().value;
  }
}
