import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { jsonTextOf } from '../event-json';
import type { InvocationFault } from '../model';
import type { FunctionLogLine } from './function-log-line';
import { parseLogJson } from './function-log-line';

/** Must match END_MARKER in worker.cjs. */
const END_MARKER = '\u0000driverless-end:';
/** How long to wait for the last log lines after a process exits or replies without markers. */
const LOG_FLUSH_GRACE_MS = 250;
const WORKER_PATH = path.join(__dirname, 'worker.cjs');

/** Lambda's error object: `{ errorType, errorMessage, trace? }`. */
export interface FunctionErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface ExecutionEnvironmentSpec {
  functionName: string;
  /** `$LATEST` or a version number. */
  version: string;
  /** The code revision (published version number) this environment loaded. */
  revision: number;
  codeDirectory: string;
  handler: string;
  memoryMb: number;
  /** The whole process environment (the host does not leak its own). */
  env: Record<string, string>;
  initTimeoutMs: number;
  /** Receives each log line; without it lines are only kept for invocations that collect them. */
  onLog: ((line: FunctionLogLine) => void) | undefined;
  /** Called once when the process has exited, for any reason. */
  onExit: (environment: ExecutionEnvironment) => void;
}

export interface InvocationRequest {
  requestId: string;
  event: unknown;
  invokedFunctionArn: string;
  timeoutMs: number;
  /** Keep this invocation's log lines (START … REPORT) in the outcome. */
  collectLog: boolean;
  /** The caller's client context (`context.clientContext`), as Invoke's `ClientContext` carries it. */
  clientContext?: unknown;
  /** Cuts the invocation short with a timeout or a crash (fault injection). */
  fault?: InvocationFault;
}

export interface InvocationOutcome {
  requestId: string;
  /** The handler's result, or the error payload when `error` is set. */
  payload: unknown;
  /** The response body as Lambda sends it. */
  payloadJson: string;
  error: boolean;
  durationMs: number;
  coldStart: boolean;
  initDurationMs: number | undefined;
  pid: number | undefined;
  log: string[] | undefined;
}

type InitResult =
  | { ok: true; initDurationMs: number }
  | { ok: false; error?: FunctionErrorPayload; exit?: ExitInfo; timedOut?: boolean };

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

type WorkerMessage =
  | { type: 'ready'; initDurationMs: number }
  | { type: 'init-error'; error: FunctionErrorPayload }
  | { type: 'result'; requestId: string; json: string; maxRssKb?: number }
  | { type: 'error'; requestId: string; error: FunctionErrorPayload; maxRssKb?: number };

interface Reply {
  error: boolean;
  payload: unknown;
  payloadJson: string;
  maxRssKb: number | undefined;
}

interface Pending {
  request: InvocationRequest;
  startedAt: number;
  timer: NodeJS.Timeout;
  timedOut: boolean;
  reply?: Reply;
  repliedAt?: number;
  markers: Set<'stdout' | 'stderr'>;
  log: string[] | undefined;
  /** Set on a cold start, for the REPORT line. */
  initDurationMs: number | undefined;
  /** An injected fault that comes before the function's own timeout; a later one never acts. */
  fault: InvocationFault | undefined;
  finish: (outcome: InvocationOutcome) => void;
  graceTimer?: NodeJS.Timeout;
}

export type EnvironmentState = 'starting' | 'idle' | 'busy' | 'dead';

/**
 * One local execution environment: a child process that loads the function's bundle once and then
 * serves one invocation at a time, like a Lambda execution environment.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export class ExecutionEnvironment {
  readonly spec: ExecutionEnvironmentSpec;
  readonly startedAt = Date.now();
  private readonly child: ChildProcess;
  private readonly ready: Promise<InitResult>;
  private resolveReady!: (result: InitResult) => void;
  private initSettled = false;
  private readonly initTimer: NodeJS.Timeout;
  private pending: Pending | undefined;
  private invocations = 0;
  private currentState: EnvironmentState = 'starting';
  private readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;
  private closed = false;
  private signalled = false;

  constructor(spec: ExecutionEnvironmentSpec) {
    this.spec = spec;
    this.ready = new Promise((resolve) => {
      this.resolveReady = resolve;
    });
    this.child = fork(WORKER_PATH, [], {
      cwd: spec.codeDirectory,
      env: spec.env,
      execPath: process.execPath,
      // Not the host's flags (tsx or jest loaders): a clean Node, with the heap capped near the
      // function's memory so a function that outgrows it dies as it would on Lambda.
      execArgv: [`--max-old-space-size=${Math.max(32, Math.floor(spec.memoryMb * 0.9))}`],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // The event travels as JSON text and the worker parses it, as Lambda's runtime does. With
      // 'advanced' (V8) serialization that text crosses as one string copy; 'json' would escape
      // it into another JSON document, to be parsed twice.
      serialization: 'advanced',
    });
    this.initTimer = setTimeout(() => {
      this.settleInit({ ok: false, timedOut: true });
      this.kill('SIGKILL');
    }, spec.initTimeoutMs);
    this.readLines('stdout');
    this.readLines('stderr');
    this.child.on('message', (message: WorkerMessage) => this.onMessage(message));
    this.child.on('error', () => {
      // A failed spawn also emits 'exit' or 'close'; the state machine handles it there.
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        this.currentState = 'dead';
        clearTimeout(this.initTimer);
        this.settleInit({ ok: false, exit: this.exitInfo });
        const pending = this.pending;
        if (pending !== undefined) {
          clearTimeout(pending.timer);
          pending.graceTimer ??= setTimeout(() => this.complete(pending), LOG_FLUSH_GRACE_MS);
        }
        resolve(this.exitInfo);
        spec.onExit(this);
      });
    });
    this.child.once('close', () => {
      this.closed = true;
      if (this.pending !== undefined) this.complete(this.pending);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get state(): EnvironmentState {
    return this.currentState;
  }

  /** Runs one invocation. The environment must be idle or starting. Never rejects. */
  async invoke(request: InvocationRequest): Promise<InvocationOutcome> {
    if (this.currentState === 'busy' || this.currentState === 'dead') {
      throw new Error(`environment ${this.pid} is ${this.currentState}; it serves one invocation`);
    }
    this.currentState = 'busy';
    this.setRef(true);
    const coldStart = this.invocations === 0;
    this.invocations += 1;
    const init = await this.ready;
    if (!init.ok) {
      return this.initFailure(request, init, coldStart);
    }
    if (this.exitInfo !== undefined) {
      return this.initFailure(request, { ok: false, exit: this.exitInfo }, coldStart);
    }
    return new Promise<InvocationOutcome>((resolve) => {
      const log = request.collectLog ? [] : undefined;
      // An injected fault goes through the same cut as the function's timeout, only sooner.
      const { timeoutMs } = request;
      const fault =
        request.fault !== undefined && request.fault.afterMs < timeoutMs
          ? request.fault
          : undefined;
      const cut: InvocationFault = fault ?? { kind: 'timeout', afterMs: timeoutMs };
      const pending: Pending = {
        request,
        startedAt: performance.now(),
        timedOut: false,
        markers: new Set(),
        log,
        initDurationMs: coldStart ? init.initDurationMs : undefined,
        fault,
        timer: setTimeout(() => this.cut(pending, cut.kind), cut.afterMs),
        finish: (outcome) => {
          resolve({
            ...outcome,
            coldStart,
            initDurationMs: coldStart ? init.initDurationMs : undefined,
          });
        },
      };
      this.pending = pending;
      this.platformLog(`START RequestId: ${request.requestId} Version: ${this.spec.version}`);
      if (cut.afterMs === 0) {
        // Cut before the handler starts: the event is never sent, so no line of it runs.
        this.cut(pending, cut.kind);
        return;
      }
      this.child.send({
        type: 'invoke',
        requestId: request.requestId,
        eventJson: jsonTextOf(request.event),
        deadlineMs: Date.now() + request.timeoutMs,
        invokedFunctionArn: request.invokedFunctionArn,
        clientContext: request.clientContext,
      });
    });
  }

  /** Resolves once the bundle's init is over: true when it succeeded. */
  initialized(): Promise<boolean> {
    return this.ready.then((result) => result.ok);
  }

  /** Whether the process has exited or was sent a signal: it must not serve again. */
  get retired(): boolean {
    return this.signalled || this.exitInfo !== undefined;
  }

  /** Sends a signal to the process (fault injection and shutdown). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.exitInfo !== undefined) return;
    this.signalled = true;
    this.child.kill(signal);
  }

  /**
   * Tears the environment down mid-invocation, as Lambda does at a timeout (or as a crash does):
   * the process is killed, so the handler stops wherever it is. The invocation completes once
   * the exit is seen, with the timeout's or the crash's error.
   */
  private cut(pending: Pending, kind: InvocationFault['kind']): void {
    clearTimeout(pending.timer);
    pending.timedOut = kind === 'timeout';
    this.kill('SIGKILL');
  }

  /** Kills the process and resolves once it has exited. */
  async stop(): Promise<void> {
    // Referenced again so the host's event loop lives until the exit is seen.
    if (this.exitInfo === undefined) this.setRef(true);
    this.kill('SIGKILL');
    await this.exited;
  }

  private initFailure(
    request: InvocationRequest,
    init: Extract<InitResult, { ok: false }>,
    coldStart: boolean,
  ): InvocationOutcome {
    const payload =
      init.error ??
      (init.timedOut
        ? timedOutPayload(request.requestId, this.spec.initTimeoutMs, 'Init')
        : exitPayload(request.requestId, init.exit));
    // Lambda tears down an environment whose init failed; the next invocation initializes anew.
    this.kill('SIGKILL');
    const log = request.collectLog
      ? [
          `START RequestId: ${request.requestId} Version: ${this.spec.version}`,
          `${new Date().toISOString()}\t${request.requestId}\tERROR\t${JSON.stringify(payload)}`,
          `END RequestId: ${request.requestId}`,
        ]
      : undefined;
    return {
      requestId: request.requestId,
      payload,
      payloadJson: JSON.stringify(payload),
      error: true,
      durationMs: 0,
      coldStart,
      initDurationMs: undefined,
      pid: this.pid,
      log,
    };
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        this.settleInit({ ok: true, initDurationMs: message.initDurationMs });
        if (this.currentState === 'starting') {
          this.currentState = 'idle';
          this.setRef(false);
        }
        return;
      case 'init-error':
        this.settleInit({ ok: false, error: message.error });
        return;
      case 'result':
      case 'error': {
        const pending = this.pending;
        if (pending === undefined || pending.request.requestId !== message.requestId) return;
        if (pending.fault !== undefined) {
          // The handler answered before its injected cut: the cut comes now and the answer is lost.
          this.cut(pending, pending.fault.kind);
          return;
        }
        pending.repliedAt = performance.now();
        pending.reply =
          message.type === 'result'
            ? {
                error: false,
                payload: JSON.parse(message.json),
                payloadJson: message.json,
                maxRssKb: message.maxRssKb,
              }
            : {
                error: true,
                payload: message.error,
                payloadJson: JSON.stringify(message.error),
                maxRssKb: message.maxRssKb,
              };
        clearTimeout(pending.timer);
        if (pending.markers.size === 2) this.complete(pending);
        else pending.graceTimer ??= setTimeout(() => this.complete(pending), LOG_FLUSH_GRACE_MS);
        return;
      }
    }
  }

  private settleInit(result: InitResult): void {
    if (this.initSettled) return;
    this.initSettled = true;
    clearTimeout(this.initTimer);
    this.resolveReady(result);
  }

  /** Finishes the pending invocation once its reply and log lines are in (or the process is gone). */
  private complete(pending: Pending): void {
    if (this.pending !== pending) return;
    const replied = pending.reply !== undefined;
    if (!replied && this.exitInfo === undefined) return;
    if (replied && pending.markers.size < 2 && !this.closed && pending.graceTimer === undefined) {
      return;
    }
    clearTimeout(pending.timer);
    clearTimeout(pending.graceTimer);
    const { requestId, timeoutMs } = pending.request;
    let reply = pending.reply;
    let durationMs = (pending.repliedAt ?? performance.now()) - pending.startedAt;
    if (reply === undefined) {
      const payload = pending.timedOut
        ? timedOutPayload(requestId, timeoutMs, 'Task')
        : exitPayload(requestId, this.exitInfo);
      if (pending.timedOut) {
        durationMs = timeoutMs;
        this.platformLog(
          `${new Date().toISOString()} ${requestId} Task timed out after ${seconds(timeoutMs)} seconds`,
        );
      }
      reply = { error: true, payload, payloadJson: JSON.stringify(payload), maxRssKb: undefined };
    }
    this.platformLog(`END RequestId: ${requestId}`);
    const memory =
      reply.maxRssKb === undefined
        ? ''
        : `\tMax Memory Used: ${Math.ceil(reply.maxRssKb / 1024)} MB`;
    const initDuration =
      pending.initDurationMs === undefined
        ? ''
        : `\tInit Duration: ${pending.initDurationMs.toFixed(2)} ms`;
    this.platformLog(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.ceil(durationMs)} ms\tMemory Size: ${this.spec.memoryMb} MB${memory}${initDuration}`,
    );
    this.pending = undefined;
    if (this.exitInfo === undefined) {
      this.currentState = 'idle';
      this.setRef(false);
    }
    pending.finish({
      requestId,
      payload: reply.payload,
      payloadJson: reply.payloadJson,
      error: reply.error,
      durationMs,
      coldStart: false,
      initDurationMs: undefined,
      pid: this.pid,
      log: pending.log,
    });
  }

  private readLines(stream: 'stdout' | 'stderr'): void {
    const readable = this.child[stream];
    if (readable === null) return;
    readable.setEncoding('utf8');
    let buffered = '';
    readable.on('data', (chunk: string) => {
      buffered += chunk;
      let start = 0;
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        this.onLine(stream, buffered.slice(start, newline));
        start = newline + 1;
        newline = buffered.indexOf('\n', start);
      }
      buffered = buffered.slice(start);
    });
    readable.on('end', () => {
      if (buffered.length > 0) this.onLine(stream, buffered);
      buffered = '';
    });
  }

  private onLine(stream: 'stdout' | 'stderr', line: string): void {
    const marker = line.indexOf(END_MARKER);
    if (marker === -1) {
      this.emit(stream, line);
      return;
    }
    if (marker > 0) this.emit(stream, line.slice(0, marker));
    const pending = this.pending;
    if (
      pending !== undefined &&
      line.slice(marker + END_MARKER.length) === pending.request.requestId
    ) {
      pending.markers.add(stream);
      if (pending.reply !== undefined && pending.markers.size === 2) this.complete(pending);
    }
  }

  private platformLog(text: string): void {
    this.emit('platform', text);
  }

  private emit(stream: FunctionLogLine['stream'], text: string): void {
    const pending = this.pending;
    pending?.log?.push(text);
    if (this.spec.onLog === undefined) return;
    this.spec.onLog({
      version: this.spec.version,
      pid: this.pid,
      requestId: pending?.request.requestId,
      stream,
      text,
      json: stream === 'platform' ? undefined : parseLogJson(text),
    });
  }

  /**
   * An idle environment must not keep the host's event loop alive (a script that forgets `stop()`
   * still exits, and the children follow through their IPC 'disconnect').
   */
  private setRef(on: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stdout, this.child.stderr];
    for (const handle of handles) {
      const refable = handle as { ref?: () => void; unref?: () => void } | null | undefined;
      if (on) refable?.ref?.();
      else refable?.unref?.();
    }
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(2);
}

/**
 * Lambda's answer for an invocation past its timeout.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/troubleshooting-invocation.html
 */
function timedOutPayload(
  requestId: string,
  ms: number,
  phase: 'Task' | 'Init',
): FunctionErrorPayload {
  return {
    errorType: 'Sandbox.Timedout',
    errorMessage: `RequestId: ${requestId} Error: ${phase} timed out after ${seconds(ms)} seconds`,
  };
}

/** Lambda's answer when the runtime process exits during an invocation. */
function exitPayload(requestId: string, exit: ExitInfo | undefined): FunctionErrorPayload {
  const reason =
    exit?.signal != null
      ? `signal: ${exit.signal === 'SIGKILL' ? 'killed' : exit.signal}`
      : `exit status ${exit?.code ?? 'unknown'}`;
  return {
    errorType: 'Runtime.ExitError',
    errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: ${reason}`,
  };
}
