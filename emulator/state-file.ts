import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type ServiceEndpoints,
} from './clients';
import type { LocalApp } from './model';

/**
 * Where a running stack tells other tools how to reach it, relative to the project directory:
 * `npm start` writes it there, and `driverless run --stream` and `driverless redrive` read it when
 * no endpoint is given.
 */
export const STATE_FILE = '.driverless/local.json';

/** The state file: what a test, the AWS CLI or a script needs to attach to a running stack. */
export interface StackState {
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: Required<ServiceEndpoints>;
  /** By logical id. */
  readonly streams: Readonly<Record<string, { name: string; arn: string; shards: number }>>;
  readonly tables: Readonly<Record<string, { name: string; arn: string }>>;
  readonly queues: Readonly<Record<string, { name: string; url: string; arn: string }>>;
  readonly buckets: Readonly<Record<string, { name: string }>>;
  readonly functions: Readonly<
    Record<
      string,
      {
        name: string;
        aliases: LocalApp['functions'][number]['aliases'];
        environment: Record<string, string>;
      }
    >
  >;
  readonly mappings: readonly {
    uuid: string;
    function: string;
    qualifier: string | undefined;
    eventSourceArn: string;
  }[];
}

/**
 * A state file as a tool reads it: written by another version of the stack or by hand, so any
 * key (and any endpoint) may be missing and each reader says what it needs.
 */
export type StackStateAsRead = Partial<Omit<StackState, 'endpoints'>> & {
  readonly endpoints?: Partial<StackState['endpoints']>;
  /** The process that runs the stack (every file the claim writes names it). */
  readonly pid?: number;
};

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
 * Paths claimed by this process and not yet released: two stacks in one process (two
 * `startLocal` calls in one test file) share a pid, so the pid in the file cannot tell them apart.
 */
const claimedHere = new Set<string>();

/**
 * Takes `path` for this process: creates it (exclusively, mode 0600) with this process's pid.
 * A file left by a stack that is no longer running is replaced.
 * @throws if another running process owns the file, naming its pid and what to do
 */
export async function claimStateFile(path: string): Promise<StateFileClaim> {
  const key = resolve(path);
  if (claimedHere.has(key)) {
    throw new Error(
      `another embedded stack of this process writes ${path}: give each stack its own state file`,
    );
  }
  await mkdir(dirname(path), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', OWNER_ONLY);
      await file.writeFile(`${JSON.stringify(ownerRecord())}\n`);
      await file.close();
      claimedHere.add(key);
      return claimed(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(path);
    if (owner !== undefined && owner !== process.pid && isRunning(owner)) {
      throw new Error(
        `another embedded stack (pid ${owner}) is running and writes ${path}: stop it first, give this one its own state file (driverless dev --state-file), or delete the file if that process is not a stack`,
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
      claimedHere.delete(resolve(path));
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

/**
 * Why a state file cannot be used to reach its stack, or `undefined` when it can: a file whose
 * owner (its `pid`) is no longer running was left by a stack that was killed, and its endpoints
 * now lead nowhere (or to someone else's server on a reused port).
 */
export function staleStateReason(
  path: string,
  state: { readonly pid?: unknown },
): string | undefined {
  if (typeof state.pid !== 'number' || isRunning(state.pid)) return undefined;
  return `${path} was written by a stack that is no longer running (pid ${state.pid}): start the stack again (driverless dev, npm start) or delete the file`;
}

/**
 * A running stack's state file as a tool reads it: the state, or why it cannot be used (missing,
 * not JSON, or left by a stack that is no longer running), so every reader refuses a dead endpoint
 * the same way and says what to do in its own words.
 */
export type StackStateRead =
  | { readonly kind: 'running'; readonly state: StackStateAsRead }
  | { readonly kind: 'unreadable'; readonly reason: 'not found' | 'not JSON' }
  | { readonly kind: 'stale'; readonly reason: string };

export function readStackState(path: string): StackStateRead {
  let state: StackStateAsRead;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as StackStateAsRead;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { kind: 'unreadable', reason: missing ? 'not found' : 'not JSON' };
  }
  const stale = staleStateReason(path, state);
  return stale === undefined ? { kind: 'running', state } : { kind: 'stale', reason: stale };
}

/** Writes the state file of a running stack through the claim this stack holds on it. */
export async function writeStateFile(
  file: StateFileClaim,
  app: LocalApp,
  endpoints: Required<ServiceEndpoints>,
): Promise<void> {
  const state: StackState = {
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    credentials: { ...LOCAL_CREDENTIALS },
    endpoints,
    streams: Object.fromEntries(
      app.streams.map((s) => [s.logicalId, { name: s.name, arn: s.arn, shards: s.shardCount }]),
    ),
    tables: Object.fromEntries(app.tables.map((t) => [t.logicalId, { name: t.name, arn: t.arn }])),
    queues: Object.fromEntries(
      app.queues.map((q) => [q.logicalId, { name: q.name, url: q.url, arn: q.arn }]),
    ),
    buckets: Object.fromEntries(app.buckets.map((b) => [b.logicalId, { name: b.name }])),
    functions: Object.fromEntries(
      app.functions.map((f) => [
        f.logicalId,
        { name: f.name, aliases: f.aliases, environment: f.environment },
      ]),
    ),
    mappings: app.mappings.map((m) => ({
      uuid: m.uuid,
      function: m.functionName,
      qualifier: m.functionQualifier,
      eventSourceArn: m.eventSourceArn,
    })),
  };
  await file.write({ ...state });
}
