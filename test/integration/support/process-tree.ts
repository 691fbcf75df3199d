import { readdirSync, readFileSync } from 'node:fs';

/** One process as `/proc/<pid>/stat` shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot: tells a reused pid apart. */
  readonly startTime: number;
  readonly state: string;
}

function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(fields[1]),
      startTime: Number(fields[19]),
      state: fields[0] ?? '',
    };
  } catch {
    return undefined;
  }
}

/** Every process below `root` (children, their children, …), read from `/proc` now. */
export function descendantsOf(root: number): ProcessEntry[] {
  const all = readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => readEntry(Number(name)) ?? []);
  const found: ProcessEntry[] = [];
  const parents = [root];
  while (parents.length > 0) {
    const parent = parents.pop();
    for (const entry of all) {
      if (entry.ppid === parent) {
        found.push(entry);
        parents.push(entry.pid);
      }
    }
  }
  return found;
}

/** Whether the process still runs (a zombie has exited: it only waits to be collected). */
export function stillRunning(entry: ProcessEntry): boolean {
  const now = readEntry(entry.pid);
  return now !== undefined && now.startTime === entry.startTime && now.state !== 'Z';
}

/** Polls until none of `entries` runs; resolves with those still running at `timeoutMs`. */
export async function survivorsAfter(
  entries: readonly ProcessEntry[],
  timeoutMs: number,
): Promise<ProcessEntry[]> {
  const deadline = Date.now() + timeoutMs;
  let running = entries.filter(stillRunning);
  while (running.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    running = running.filter(stillRunning);
  }
  return running;
}
