import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ServerControlMessage,
  ServerKind,
  ServerProcessMessage,
  ServerProcessOptions,
} from './protocol';

/** One emulator running in its own child process. */
export interface ServerProcess {
  readonly kind: ServerKind;
  readonly pid: number;
  /** Plain HTTP port on 127.0.0.1: the only port the server listens on. */
  readonly port: number;
  /** Resolves when the child has exited, for whatever reason. */
  readonly exited: Promise<void>;
  /** Stops the server and resolves once its process has exited (idempotent). */
  stop(): Promise<void>;
}

export interface SpawnServerOptions extends Omit<ServerProcessOptions, 'socketDir'> {
  /** How long the server may take to report readiness. @default 30000 */
  startTimeoutMs?: number;
  /** Receives the child's stdout/stderr; by default it is kept only for error messages. */
  onOutput?: (chunk: string) => void;
}

/**
 * The child's entry beside this module: TypeScript when this runs from the repository's sources,
 * the compiled `.mjs` in the published package (Node does not strip types under node_modules).
 */
const CHILD_ENTRY = join(
  __dirname,
  __filename.endsWith('.ts') ? 'server-main.mts' : 'server-main.mjs',
);
/** How long a graceful stop may take before the child is killed. */
const STOP_GRACE_MS = 5000;
/**
 * kinesis-local flushes its snapshot on SIGTERM but never exits on it
 * (docs/emulator.md#kinesis-local-sigterm).
 */
const KINESIS_LOCAL_FLUSH_MS = 1500;
const OUTPUT_TAIL_CHARS = 4000;

/**
 * Starts one emulator in a child process and resolves when it reports its port. The emulator
 * listens on a Unix socket in a private directory; its only TCP port is a guarded front on
 * 127.0.0.1 that refuses requests from web pages (see `server-main.mts`).
 * The child exits on `stop()` and also by itself when this process's IPC channel goes away,
 * so even a SIGKILLed parent leaves no server behind.
 */
export async function spawnServer(options: SpawnServerOptions): Promise<ServerProcess> {
  const { startTimeoutMs = 30_000, onOutput, ...rest } = options;
  // mkdtemp creates the directory with mode 0700: no other user can reach the socket in it.
  const socketDir = await mkdtemp(join(tmpdir(), 'driverless-'));
  const processOptions: ServerProcessOptions = { ...rest, socketDir };
  const child = fork(CHILD_ENTRY, [JSON.stringify(processOptions)], {
    // Type stripping is built into the Node versions the project supports (engines >= 22).
    execArgv: ['--disable-warning=ExperimentalWarning'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Account and region the emulators put in the ARNs they return; the assembly reader uses the same.
    env: { ...process.env, AWS_ACCOUNT_ID: '000000000000', AWS_REGION: 'us-east-1' },
  });
  let tail = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString('utf8');
    tail = (tail + text).slice(-OUTPUT_TAIL_CHARS);
    onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  }).then(() => rm(socketDir, { recursive: true, force: true }));

  let ready: Extract<ServerProcessMessage, { type: 'ready' }>;
  try {
    ready = await waitForReady(child, processOptions.kind, startTimeoutMs, () => tail);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.kind} child process has no pid`);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopChild(child, processOptions, exited);
    return stopping;
  };
  return {
    kind: options.kind,
    pid,
    port: ready.port,
    exited,
    stop,
  };
}

function waitForReady(
  child: ChildProcess,
  kind: ServerKind,
  timeoutMs: number,
  output: () => string,
): Promise<Extract<ServerProcessMessage, { type: 'ready' }>> {
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      cleanup();
      const logged = output().trim();
      reject(new Error(`${kind} failed to start: ${reason}${logged ? `\n${logged}` : ''}`));
    };
    const onMessage = (message: ServerProcessMessage): void => {
      if (message.type === 'ready') {
        cleanup();
        resolve(message);
      } else fail(message.message);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`process exited (${signal ?? `code ${code}`}) before reporting ready`);
    const onError = (error: Error): void => fail(error.message);
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
    child.on('error', onError);
  });
}

async function stopChild(
  child: ChildProcess,
  options: ServerProcessOptions,
  exited: Promise<void>,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (options.kind === 'kinesis-local') {
    // It ignores SIGTERM (docs/emulator.md#kinesis-local-sigterm); only a snapshot to flush is
    // worth waiting for.
    if (options.dataDir !== undefined) {
      child.kill('SIGTERM');
      await Promise.race([exited, delay(KINESIS_LOCAL_FLUSH_MS)]);
    }
    child.kill('SIGKILL');
    await exited;
    return;
  }
  const stop: ServerControlMessage = { type: 'stop' };
  // A channel that closed meanwhile makes the child exit by itself (its disconnect watchdog).
  if (child.connected) child.send(stop, (error) => error && child.kill('SIGTERM'));
  else child.kill('SIGTERM');
  const graceful = await Promise.race([exited.then(() => true), delay(STOP_GRACE_MS)]);
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}

function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref());
}
