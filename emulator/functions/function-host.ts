import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { InvocationFault, InvokeResult, LocalFunction } from '../model';
import { type EnvironmentState, ExecutionEnvironment } from './execution-environment';
import { FUNCTION_HOST_DEFAULTS } from './function-host-defaults';
import type { FunctionLogLine } from './function-log-line';
import { LambdaServiceError } from './lambda-service-error';

export interface FunctionHostOptions {
  /**
   * Variables every function gets, under its own environment: `AWS_ENDPOINT_URL_*` pointing at the
   * embedded servers, credentials, anything the stack adds. Lambda's reserved variables win over both.
   * @default - test credentials only
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** `AWS_REGION` of the functions. @default - the region in each function's ARN, else `us-east-1` */
  readonly region?: string;
  /**
   * Execution environments per function when it has no reserved concurrency; invocations past it
   * wait for a free environment. Range 1 or more.
   * @default 64
   */
  readonly maxEnvironmentsPerFunction?: number;
  /** How long an idle environment is kept warm, in ms. @default 300000 */
  readonly idleTimeoutMs?: number;
  /** Limit of a new environment's init (loading the bundle), in ms. @default 10000 */
  readonly initTimeoutMs?: number;
  /** Receives every log line of every environment. @default - lines are dropped */
  readonly onLog?: (functionName: string, line: FunctionLogLine) => void;
}

export interface InvokeOptions {
  /** Keep the invocation's log (START … REPORT) in the result, for `X-Amz-Log-Type: Tail`. */
  readonly tail?: boolean;
  /** The handler's `context.clientContext` (Invoke's `ClientContext`, decoded). */
  readonly clientContext?: unknown;
  /** Ends the invocation early with a timeout or a crash (fault injection for tests). @default - none */
  readonly fault?: InvocationFault;
}

/** What `FunctionHost.invoke` returns: the Invoke API's result plus what the host knows of the run. */
export interface FunctionInvocation extends InvokeResult {
  requestId: string;
  /** The response body exactly as Lambda sends it (`null` for an undefined result). */
  payloadJson: string;
  /** Whether this invocation started a new environment. */
  coldStart: boolean;
  /** The environment's init time, on a cold start. */
  initDurationMs: number | undefined;
  /** The process that served the invocation. */
  pid: number | undefined;
  /** The invocation's log lines, when asked with `tail: true`. */
  log: string[] | undefined;
}

/** A function as one qualifier resolves it. */
export interface ResolvedFunction {
  readonly function: LocalFunction;
  /** The version that runs: `$LATEST` or a published version number. */
  readonly version: string;
  /** The newest published version. */
  readonly latestVersion: string;
  /** The code the resolved version runs. */
  readonly codeDirectory: string;
  /** The ARN as invoked (with the qualifier when one was given). */
  readonly invokedArn: string;
  readonly qualifier: string | undefined;
}

export interface EnvironmentInfo {
  readonly functionName: string;
  readonly version: string;
  readonly pid: number | undefined;
  readonly state: EnvironmentState;
}

interface Waiter {
  readonly version: string;
  readonly revision: number;
  readonly resolve: (environment: ExecutionEnvironment) => void;
  readonly reject: (error: Error) => void;
}

interface FunctionState {
  readonly fn: LocalFunction;
  /** Code of published version n at index n - 1. */
  readonly codeDirectories: string[];
  readonly environments: Set<ExecutionEnvironment>;
  /** Idle environments, most recently used last. */
  readonly idle: ExecutionEnvironment[];
  readonly waiters: Waiter[];
  readonly idleTimers: Map<ExecutionEnvironment, NodeJS.Timeout>;
  /** The version aliases point at while newer ones warm up (`publishWarm`); else the newest. */
  aliasRevision: number | undefined;
  /** Versions being warmed up by `publishWarm`. */
  warming: number;
}

const ARN = /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([\w-]+)(?::([\w$-]+))?$/;
const PARTIAL_ARN = /^(\d{12}):function:([\w-]+)(?::([\w$-]+))?$/;
const NAME = /^([\w-]+)(?::([\w$-]+))?$/;

/**
 * Runs the app's functions as Lambda does: each execution environment is its own process serving
 * one invocation at a time; concurrent invocations get more environments, up to the function's
 * reserved concurrency; idle ones stay warm. Published versions are immutable, aliases point at the
 * newest one, and `updateCode` publishes a new one.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html
 */
export class FunctionHost {
  private readonly functions = new Map<string, FunctionState>();
  private readonly options: Required<Omit<FunctionHostOptions, 'onLog' | 'region'>> &
    Pick<FunctionHostOptions, 'onLog' | 'region'>;
  private stopped = false;

  constructor(functions: readonly LocalFunction[], options: FunctionHostOptions = {}) {
    this.options = {
      environment: options.environment ?? {},
      region: options.region,
      maxEnvironmentsPerFunction:
        options.maxEnvironmentsPerFunction ?? FUNCTION_HOST_DEFAULTS.maxEnvironmentsPerFunction,
      idleTimeoutMs: options.idleTimeoutMs ?? FUNCTION_HOST_DEFAULTS.idleTimeoutMs,
      initTimeoutMs: options.initTimeoutMs ?? FUNCTION_HOST_DEFAULTS.initTimeoutMs,
      onLog: options.onLog,
    };
    const { maxEnvironmentsPerFunction: max, idleTimeoutMs, initTimeoutMs } = this.options;
    const problems = [
      !Number.isInteger(max) || max < 1
        ? `maxEnvironmentsPerFunction must be an integer of 1 or more (given ${max})`
        : undefined,
      !(idleTimeoutMs > 0)
        ? `idleTimeoutMs must be more than 0 (given ${idleTimeoutMs})`
        : undefined,
      !(initTimeoutMs > 0)
        ? `initTimeoutMs must be more than 0 (given ${initTimeoutMs})`
        : undefined,
    ].filter((problem) => problem !== undefined);
    if (problems.length > 0) throw new Error(problems.join('; '));
    for (const fn of functions) this.addFunction(fn);
  }

  /** Adds a function (a resource added to a running app); it starts with version 1. */
  addFunction(fn: LocalFunction): void {
    if (this.functions.has(fn.name)) {
      throw new Error(`function names must be unique (given ${fn.name} twice)`);
    }
    this.functions.set(fn.name, {
      fn,
      codeDirectories: [assertDirectory(fn.codeDirectory, fn.name)],
      environments: new Set(),
      idle: [],
      waiters: [],
      idleTimers: new Map(),
      aliasRevision: undefined,
      warming: 0,
    });
  }

  /**
   * Invokes a function synchronously (RequestResponse). Function errors (thrown, timed out,
   * crashed) are data: `functionError: 'Unhandled'` with Lambda's error payload. Rejects only with
   * a `LambdaServiceError` (unknown function or qualifier, reserved concurrency 0, host stopped).
   * @param functionName a name, `name:qualifier`, or an (optionally qualified) ARN
   * @param qualifier `$LATEST`, an alias (`live`) or a version number
   */
  readonly invoke = async (
    functionName: string,
    qualifier: string | undefined,
    event: unknown,
    options: InvokeOptions = {},
  ): Promise<FunctionInvocation> => {
    const resolved = this.resolve(functionName, qualifier);
    const afterMs = options.fault?.afterMs;
    if (afterMs !== undefined && !(Number.isFinite(afterMs) && afterMs >= 0)) {
      throw new LambdaServiceError(
        'InvalidParameterValueException',
        `fault.afterMs must be a finite number of 0 or more (given ${afterMs})`,
      );
    }
    const state = this.state(resolved.function.name);
    const environment = await this.acquire(state, resolved.version, Number(resolved.latestVersion));
    try {
      const outcome = await environment.invoke({
        requestId: randomUUID(),
        event,
        invokedFunctionArn: resolved.invokedArn,
        timeoutMs: resolved.function.timeoutSeconds * 1000,
        collectLog: options.tail === true,
        ...(options.clientContext === undefined ? {} : { clientContext: options.clientContext }),
        ...(options.fault === undefined ? {} : { fault: options.fault }),
      });
      const result: FunctionInvocation = {
        payload: outcome.payload,
        executedVersion: resolved.version,
        durationMs: outcome.durationMs,
        requestId: outcome.requestId,
        payloadJson: outcome.payloadJson,
        coldStart: outcome.coldStart,
        initDurationMs: outcome.initDurationMs,
        pid: outcome.pid,
        log: outcome.log,
      };
      if (outcome.error) result.functionError = 'Unhandled';
      return result;
    } finally {
      this.release(state, environment);
    }
  };

  /**
   * Resolves a function reference as the Invoke API does.
   * @throws LambdaServiceError `ResourceNotFoundException` or `InvalidParameterValueException`
   */
  resolve(functionName: string, qualifier?: string): ResolvedFunction {
    const { name, qualifier: derived, arn } = parseFunctionName(functionName);
    const state = this.functions.get(name);
    if (state === undefined || (arn !== undefined && arn !== state.fn.arn)) {
      throw new LambdaServiceError(
        'ResourceNotFoundException',
        `Function not found: ${arn ?? this.arnOf(name)}`,
      );
    }
    if (derived !== undefined && qualifier !== undefined && derived !== qualifier) {
      throw new LambdaServiceError(
        'InvalidParameterValueException',
        'The derived qualifier from the function name does not match the specified qualifier.',
      );
    }
    const effective = qualifier ?? derived;
    const latest = state.codeDirectories.length;
    let version: string;
    if (effective === undefined || effective === '$LATEST') {
      version = '$LATEST';
    } else if (state.fn.aliases.includes(effective)) {
      version = String(state.aliasRevision ?? latest);
    } else if (/^\d+$/.test(effective) && Number(effective) >= 1 && Number(effective) <= latest) {
      version = String(Number(effective));
    } else {
      throw new LambdaServiceError(
        'ResourceNotFoundException',
        `Function not found: ${state.fn.arn}:${effective}`,
      );
    }
    const revision = version === '$LATEST' ? latest : Number(version);
    return {
      function: state.fn,
      version,
      latestVersion: String(latest),
      codeDirectory: state.codeDirectories[revision - 1]!,
      invokedArn: effective === undefined ? state.fn.arn : `${state.fn.arn}:${effective}`,
      qualifier: effective,
    };
  }

  /** Every function at `$LATEST`. */
  list(): ResolvedFunction[] {
    return [...this.functions.keys()].map((name) => this.resolve(name));
  }

  /**
   * Publishes new code as the next version: new invocations (`$LATEST`, aliases) run it,
   * in-flight ones finish on the old code, and idle environments of older code are retired.
   * @returns the new version number
   */
  updateCode(functionName: string, codeDirectory: string): string {
    const state = this.state(this.resolve(functionName).function.name);
    state.codeDirectories.push(assertDirectory(codeDirectory, functionName));
    state.aliasRevision = undefined;
    this.retireOlderIdle(state);
    this.pump(state);
    return String(state.codeDirectories.length);
  }

  /**
   * Publishes new code as the next version like `updateCode`, but the aliases move to it only once
   * an environment of it has finished its init (well or not): until then invocations through an
   * alias keep running the previous version, and the first one after the move finds a warm
   * environment instead of a cold start. `$LATEST` runs the new code at once. With no room for
   * one more environment (every one busy at the function's cap), the aliases move at once.
   * @returns the new version number, once the aliases point at it
   */
  async publishWarm(functionName: string, codeDirectory: string): Promise<string> {
    const state = this.state(this.resolve(functionName).function.name);
    const previous = state.aliasRevision ?? state.codeDirectories.length;
    state.codeDirectories.push(assertDirectory(codeDirectory, functionName));
    const revision = state.codeDirectories.length;
    state.aliasRevision = previous;
    state.warming += 1;
    try {
      const environment = this.warm(state, revision);
      // An init that failed is torn down, as Lambda does: the next invocation reports the error.
      if (environment !== undefined && !(await environment.initialized())) {
        this.retire(state, environment);
      }
    } finally {
      state.warming -= 1;
      // Left alone when `updateCode` already moved the aliases to the newest version.
      if (state.aliasRevision !== undefined) {
        state.aliasRevision =
          state.warming === 0 ? undefined : Math.max(state.aliasRevision, revision);
      }
      if (state.aliasRevision === undefined) this.retireOlderIdle(state);
      this.pump(state);
    }
    return String(revision);
  }

  /** The function's live environments (inspection for tests and the live view). */
  environments(functionName?: string): EnvironmentInfo[] {
    const states =
      functionName === undefined
        ? [...this.functions.values()]
        : [this.state(this.resolve(functionName).function.name)];
    return states.flatMap((state) =>
      [...state.environments].map((environment) => ({
        functionName: state.fn.name,
        version: environment.spec.version,
        pid: environment.pid,
        state: environment.state,
      })),
    );
  }

  /**
   * Sends a signal to the function's environments that are running an invocation (fault
   * injection for test harnesses: a crash mid-invocation).
   * @returns the pids signalled
   */
  kill(functionName: string, signal: NodeJS.Signals = 'SIGKILL'): number[] {
    const state = this.state(this.resolve(functionName).function.name);
    const pids: number[] = [];
    for (const environment of state.environments) {
      if (environment.state !== 'busy') continue;
      environment.kill(signal);
      if (environment.pid !== undefined) pids.push(environment.pid);
    }
    return pids;
  }

  /** Kills every environment and waits until each process has exited. Invocations in flight end as crashed. */
  async stop(): Promise<void> {
    this.stopped = true;
    const exits: Promise<void>[] = [];
    for (const state of this.functions.values()) {
      for (const waiter of state.waiters.splice(0)) {
        waiter.reject(new LambdaServiceError('ServiceException', 'The function host is stopping.'));
      }
      for (const timer of state.idleTimers.values()) clearTimeout(timer);
      state.idleTimers.clear();
      for (const environment of state.environments) exits.push(environment.stop());
    }
    await Promise.all(exits);
  }

  private state(name: string): FunctionState {
    const state = this.functions.get(name);
    if (state === undefined) {
      throw new LambdaServiceError('ResourceNotFoundException', `Function not found: ${name}`);
    }
    return state;
  }

  private arnOf(name: string): string {
    const any = this.functions.values().next().value;
    const prefix =
      any?.fn.arn.replace(/:function:.*$/, '') ?? 'arn:aws:lambda:us-east-1:000000000000';
    return `${prefix}:function:${name}`;
  }

  private cap(state: FunctionState): number {
    return Math.min(
      state.fn.reservedConcurrency ?? Infinity,
      this.options.maxEnvironmentsPerFunction,
    );
  }

  private acquire(
    state: FunctionState,
    version: string,
    latest: number,
  ): Promise<ExecutionEnvironment> {
    if (this.stopped) {
      return Promise.reject(
        new LambdaServiceError('ServiceException', 'The function host is stopped.'),
      );
    }
    if (state.fn.reservedConcurrency === 0) {
      // Reserved concurrency 0 is how AWS disables a function: every invocation is throttled.
      return Promise.reject(
        new LambdaServiceError(
          'TooManyRequestsException',
          'Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)',
        ),
      );
    }
    const revision = version === '$LATEST' ? latest : Number(version);
    return new Promise((resolve, reject) => {
      state.waiters.push({ version, revision, resolve, reject });
      this.pump(state);
    });
  }

  /** Hands environments to waiting invocations, FIFO: a warm one if any, else a new one within the cap. */
  private pump(state: FunctionState): void {
    while (state.waiters.length > 0 && !this.stopped) {
      const waiter = state.waiters[0]!;
      let environment = this.takeIdle(state, waiter.version, waiter.revision);
      if (environment === undefined) {
        if (state.environments.size >= this.cap(state)) {
          // At the cap: an idle environment of another version makes room, else wait.
          const victim = state.idle[0];
          if (victim === undefined) return;
          this.retire(state, victim);
        }
        environment = this.spawn(state, waiter.version, waiter.revision);
      }
      state.waiters.shift();
      waiter.resolve(environment);
    }
  }

  private takeIdle(
    state: FunctionState,
    version: string,
    revision: number,
  ): ExecutionEnvironment | undefined {
    for (let i = state.idle.length - 1; i >= 0; i -= 1) {
      const environment = state.idle[i]!;
      if (environment.spec.version === version && environment.spec.revision === revision) {
        state.idle.splice(i, 1);
        clearTimeout(state.idleTimers.get(environment));
        state.idleTimers.delete(environment);
        return environment;
      }
    }
    return undefined;
  }

  /** Starts an environment of a published version and keeps it idle, if there is room for one. */
  private warm(state: FunctionState, revision: number): ExecutionEnvironment | undefined {
    if (this.stopped || state.fn.reservedConcurrency === 0) return undefined;
    if (state.environments.size >= this.cap(state)) {
      const victim = state.idle[0];
      if (victim === undefined) return undefined;
      this.retire(state, victim);
    }
    const environment = this.spawn(state, String(revision), revision);
    this.keepIdle(state, environment);
    return environment;
  }

  /** Retires idle environments of versions older than the one the aliases point at. */
  private retireOlderIdle(state: FunctionState): void {
    const current = state.aliasRevision ?? state.codeDirectories.length;
    for (const environment of [...state.idle]) {
      if (environment.spec.revision < current) this.retire(state, environment);
    }
  }

  private keepIdle(state: FunctionState, environment: ExecutionEnvironment): void {
    state.idle.push(environment);
    const timer = setTimeout(() => this.retire(state, environment), this.options.idleTimeoutMs);
    timer.unref();
    state.idleTimers.set(environment, timer);
  }

  private release(state: FunctionState, environment: ExecutionEnvironment): void {
    // While a newer version warms up, the aliases still run this one: keep it.
    const stale = environment.spec.revision < (state.aliasRevision ?? state.codeDirectories.length);
    if (stale || this.stopped || environment.retired || !state.environments.has(environment)) {
      this.retire(state, environment);
    } else {
      this.keepIdle(state, environment);
    }
    this.pump(state);
  }

  private retire(state: FunctionState, environment: ExecutionEnvironment): void {
    state.environments.delete(environment);
    const index = state.idle.indexOf(environment);
    if (index !== -1) state.idle.splice(index, 1);
    clearTimeout(state.idleTimers.get(environment));
    state.idleTimers.delete(environment);
    void environment.stop();
  }

  private spawn(state: FunctionState, version: string, revision: number): ExecutionEnvironment {
    const { fn } = state;
    const { onLog } = this.options;
    const codeDirectory = state.codeDirectories[revision - 1]!;
    const region = this.options.region ?? ARN.exec(fn.arn)?.[1] ?? FUNCTION_HOST_DEFAULTS.region;
    const environment = new ExecutionEnvironment({
      functionName: fn.name,
      version,
      revision,
      codeDirectory,
      handler: fn.handler,
      memoryMb: fn.memoryMb,
      initTimeoutMs: this.options.initTimeoutMs,
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        ...runtimeNodePath(),
        ...FUNCTION_HOST_DEFAULTS.credentials,
        ...this.options.environment,
        ...fn.environment,
        // Lambda's reserved variables; functions cannot override them.
        // @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: version,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: logStreamName(version),
        LAMBDA_TASK_ROOT: codeDirectory,
        _HANDLER: fn.handler,
      },
      onLog: onLog === undefined ? undefined : (line) => onLog(fn.name, line),
      onExit: (exited) => {
        if (!state.environments.has(exited)) return;
        this.retire(state, exited);
        this.pump(state);
      },
    });
    state.environments.add(environment);
    return environment;
  }
}

function parseFunctionName(reference: string): { name: string; qualifier?: string; arn?: string } {
  const arn = ARN.exec(reference);
  if (arn !== null) {
    const name = arn[3]!;
    return {
      name,
      qualifier: arn[4],
      arn: reference.replace(/:function:([\w-]+).*$/, ':function:$1'),
    };
  }
  const partial = PARTIAL_ARN.exec(reference);
  if (partial !== null) return { name: partial[2]!, qualifier: partial[3] };
  const plain = NAME.exec(reference);
  if (plain !== null) return { name: plain[1]!, qualifier: plain[2] };
  throw new LambdaServiceError(
    'InvalidParameterValueException',
    `functionName must be a name, name:qualifier or function ARN (given ${JSON.stringify(reference)})`,
  );
}

/** Lambda's log stream name: `YYYY/MM/DD/[version]<32 hex>`, one per environment. */
function logStreamName(version: string): string {
  const date = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${date}/[${version}]${randomBytes(16).toString('hex')}`;
}

let nodePath: { NODE_PATH?: string } | undefined;

/**
 * The Node.js runtime provides the AWS SDK v3, so CDK bundles leave `@aws-sdk/*` external and
 * Lambda resolves it through NODE_PATH. Locally the project's own `node_modules` plays that part,
 * wherever the asset directory is.
 * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included
 */
function runtimeNodePath(): { NODE_PATH?: string } {
  if (nodePath !== undefined) return nodePath;
  nodePath = {};
  // \`__dirname\` is missing where a TypeScript loader runs this file as an ES module (the CLI from
  // the repository's sources); the running script's directory leads to the same node_modules.
  const start =
    typeof __dirname === 'string' ? __dirname : path.dirname(path.resolve(process.argv[1] ?? '.'));
  for (let dir = start; ; dir = path.dirname(dir)) {
    const modules = path.join(dir, 'node_modules');
    if (existsSync(path.join(modules, '@aws-sdk'))) {
      nodePath = { NODE_PATH: modules };
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return nodePath;
}

function assertDirectory(directory: string, functionName: string): string {
  const absolute = path.resolve(directory);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    isDirectory = false;
  }
  if (!isDirectory) {
    throw new Error(
      `codeDirectory of function ${functionName} must be a directory (given ${directory})`,
    );
  }
  return absolute;
}
