import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * The state file of a running embedded stack (`.driverless/local.json`): endpoints, resource names
 * and every function's environment, which may hold secrets. Only its owner may read it (mode 0600),
 * it lives only as long as the stack, and one stack never overwrites the file of another that is
 * still running.
 */
export interface StateFileClaim {
  readonly path: string;
  /** Replaces the file's content with `state` (plus the owner's pid), atomically. */
  write(state: Record<string, unknown>): Promise<void>;
  /** Removes the file if this process still owns it (idempotent). */
  release(): Promise<void>;
}

/** What the claim puts in the file before the stack is up, and keeps in it afterwards. */
interface Owner {
  pid: number;
}

const OWNER_ONLY = 0o600;

/**
 * Takes `path` for this process: creates it (exclusively, mode 0600) with this process's pid.
 * A file left by a stack that is no longer running is replaced.
 * @throws if another running process owns the file, naming its pid and what to do
 */
export async function claimStateFile(path: string): Promise<StateFileClaim> {
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', OWNER_ONLY);
      await file.writeFile(`${JSON.stringify(ownerRecord())}\n`);
      await file.close();
      return claimed(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(path);
    if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
      throw new Error(
        `another embedded stack (pid ${owner}) is running and writes ${path}: stop it first, or delete the file if that process is not a stack`,
      );
    }
    // Left by a stack that ended without cleaning up (killed): not anyone's any more.
    await unlink(path).catch(() => undefined);
  }
  throw new Error(`${path} keeps reappearing: another embedded stack is starting at the same time`);
}

function claimed(path: string): StateFileClaim {
  let released = false;
  return {
    path,
    async write(state) {
      // A temporary file renamed over the old one: readers never see half a file.
      const temporary = `${path}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify({ ...state, ...ownerRecord() }, null, 2)}\n`, {
        mode: OWNER_ONLY,
      });
      await rename(temporary, path);
    },
    async release() {
      if (released) return;
      released = true;
      if ((await readOwner(path)) === process.pid) await unlink(path).catch(() => undefined);
    },
  };
}

function ownerRecord(): Owner {
  return { pid: process.pid };
}

async function readOwner(path: string): Promise<number | undefined> {
  try {
    const { pid } = JSON.parse(await readFile(path, 'utf8')) as Partial<Owner>;
    return typeof pid === 'number' ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
