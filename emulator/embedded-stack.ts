import { readAssembly } from './assembly';
import { readAssemblyStacks } from './assembly-stacks';
import {
  kinesisClient,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  localAwsEnvironment,
  type ServiceEndpoints,
  s3Client,
  sqsClient,
} from './clients';
import {
  type EsmEvent,
  type EsmTuning,
  type RunningMapping,
  startEventSourceMapping,
} from './esm/index';
import { parseFunctionName } from './esm/startEventSourceMapping';
import { validateMappingConfig } from './esm/validateMappingConfig';
import { FunctionHost, type FunctionLogLine } from './functions/index';
import { type LambdaApi, startLambdaApi } from './lambda-api';
import {
  type EventSourceMappingConfig,
  type Invoke,
  type LocalApp,
  withAddedResources,
} from './model';
import { provision, replaceStrings } from './provision';
import { type RunningSchedules, type ScheduleFiring, startSchedules } from './schedules';
import { type EmbeddedServers, startServers } from './servers/embedded-servers';
import type { KinesisEngine } from './servers/kinesis-server';
import { SettledRecords } from './settled-records';
import { claimStateFile, writeStateFile } from './state-file';

/** Options of {@link startEmbeddedStack}. */
export interface EmbeddedStackOptions {
  /** The synthesized cloud assembly (`cdk.out`). */
  readonly assemblyDir: string;
  /** The stack to run when the assembly has several. */
  readonly stackName?: string;
  /**
   * Several stacks of the assembly run together on one set of servers (`[]`: every stack);
   * takes the place of `stackName`. @default - `stackName`, or the assembly's only stack
   */
  readonly stackNames?: readonly string[];
  /** @default 'kinesalite' (fast); 'kinesis-local' has resharding, consumers and encryption */
  readonly kinesisEngine?: KinesisEngine;
  /** Timing of the event source mappings (tests scale them down). @default - as AWS (ESM README) */
  readonly tuning?: Partial<EsmTuning>;
  /** Every mapping's observability events. */
  readonly onMappingEvent?: (mapping: EventSourceMappingConfig, event: EsmEvent) => void;
  /** Every function log line (the runtime's batch lines and EMF metrics arrive here). */
  readonly onLog?: (functionName: string, line: FunctionLogLine) => void;
  /**
   * Where to write endpoints and resource names for other tools: readable by the owner only
   * (mode 0600), removed by `stop()`. Starting fails if another running stack owns the file.
   * @default - not written
   */
  readonly stateFile?: string;
  /** Resources the embedded stack does not run, reported once per type. @default - ignored */
  readonly onNote?: (note: string) => void;
  /**
   * Variables merged over the local AWS environment of every function process (the template's
   * own variables still win), e.g. `AWS_ENDPOINT_URL_DYNAMODB` pointed at a fault-injecting proxy
   * in a test harness. @default - none
   */
  readonly functionEnvironment?: Readonly<Record<string, string>>;
  /**
   * Fire every scheduled rule (`rate(...)`, e.g. the pipeline's state ticks) this often instead of
   * at its rate, so tests and `driverless dev` need not wait a minute for a tick.
   * @default - each rule's own rate
   */
  readonly scheduleIntervalMs?: number;
  /** Every firing of a scheduled rule on each of its targets, once the invocation is done. */
  readonly onScheduleFiring?: (firing: ScheduleFiring) => void;
  /**
   * Wraps the invoke every mapping and scheduled rule calls, e.g. to record invocations or answer
   * some with an error in a test harness. Calls through the Lambda API are not wrapped.
   * @default - none
   */
  readonly wrapInvoke?: (invoke: Invoke) => Invoke;
}

/** A running embedded stack: the app's resources on real API servers, its functions, its mappings. */
export interface EmbeddedStack {
  /** The app that runs: the assembly's, and whatever `addResources` added since. */
  readonly app: LocalApp;
  readonly endpoints: Required<ServiceEndpoints>;
  readonly servers: EmbeddedServers;
  readonly functions: FunctionHost;
  readonly lambdaApi: LambdaApi;
  readonly mappings: ReadonlyMap<string, RunningMapping>;
  /**
   * Publishes new code for a function as its next version, the way an upgrade ships code: the
   * aliases move once an environment of the new version has started (invocations until then run
   * the old one, in-flight ones finish on it), and the function's mappings, which never stop,
   * read their shards at once after the move instead of at the end of their idle wait.
   * @returns the new version number
   */
  publishCode(functionName: string, codeDirectory: string): Promise<string>;
  /**
   * Creates resources added to the app while it runs (an app as `readAssemblyStacks` reads a new
   * synth, holding only what is new): streams, consumers, tables, queues and buckets on the
   * servers, then its functions, then its event source mappings and scheduled rules start. What
   * already runs is not touched; resources changed or removed need a restart. Mapping configs
   * are checked before anything is created. The state file, if any, is written again.
   * @returns what was added, with the names, URLs and ARNs the servers gave
   */
  addResources(added: LocalApp): Promise<LocalApp>;
  /** Stops mappings, then functions, then servers; leaves no process or port behind. */
  stop(): Promise<void>;
}

/**
 * Starts the app of a cloud assembly on one machine: API servers, provisioned resources, one
 * process pool per function running the bundle CDK produced, the Lambda Invoke API, and one
 * poller per event source mapping. A failure midway stops whatever had started.
 */
export async function startEmbeddedStack(options: EmbeddedStackOptions): Promise<EmbeddedStack> {
  // Claimed first: a second stack on the same file fails before it starts anything.
  const stateFile = options.stateFile ? await claimStateFile(options.stateFile) : undefined;
  const cleanup: (() => Promise<void>)[] = stateFile ? [() => stateFile.release()] : [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    const servers = await startServers({ kinesisEngine: options.kinesisEngine ?? 'kinesalite' });
    cleanup.push(() => servers.stop());
    const modelled =
      options.stackNames === undefined
        ? readAssembly(options.assemblyDir, {
            ...(options.stackName === undefined ? {} : { stackName: options.stackName }),
            sqsEndpoint: servers.endpoints.sqs,
          })
        : readAssemblyStacks(options.assemblyDir, options.stackNames, {
            sqsEndpoint: servers.endpoints.sqs,
          });
    const skippedTypes = [...new Set(modelled.skipped.map((resource) => resource.type))].sort();
    if (skippedTypes.length > 0) options.onNote?.(`not run locally: ${skippedTypes.join(', ')}`);
    const provisioned = await provision(modelled, {
      endpoints: servers.endpoints,
      kinesisFeatures: servers.kinesis.features,
    });
    for (const note of provisioned.notes) options.onNote?.(note);
    // Grows when resources are added to the running app.
    let app = provisioned.app;
    const replacements = new Map(provisioned.replacements);

    const functions = new FunctionHost(app.functions, {
      environment: { ...localAwsEnvironment(servers.endpoints), ...options.functionEnvironment },
      region: LOCAL_REGION,
      ...(options.onLog === undefined ? {} : { onLog: options.onLog }),
    });
    cleanup.push(() => functions.stop());
    // Every mapping's settled records, served to tools in other processes (driverless put).
    const settledRecords = new SettledRecords();
    const lambdaApi = await startLambdaApi({
      host: functions,
      listEventSourceMappings: () => app.mappings,
      settledRecords,
    });
    cleanup.push(() => lambdaApi.close());
    const endpoints = { ...servers.endpoints, lambda: lambdaApi.endpoint };

    const kinesis = kinesisClient(endpoints.kinesis);
    const sqs = sqsClient(endpoints.sqs);
    const s3 = s3Client(endpoints.s3);
    const hostInvoke: Invoke = (name, qualifier, event, callOptions) =>
      functions.invoke(name, qualifier, event, callOptions);
    const invoke = options.wrapInvoke ? options.wrapInvoke(hostInvoke) : hostInvoke;
    const mappings = new Map<string, RunningMapping>();
    /** Starts mappings and resolves once each reads its shards. */
    const startMappings = async (configs: readonly EventSourceMappingConfig[]) => {
      const started = configs.map((mapping) => {
        const running = startEventSourceMapping(mapping, {
          kinesis,
          sqs,
          s3,
          invoke,
          region: LOCAL_REGION,
          accountId: LOCAL_ACCOUNT_ID,
          roleArn: executionRoleArn(app, mapping),
          ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
          onEvent: (event: EsmEvent) => {
            settledRecords.observe(mapping.uuid, event);
            options.onMappingEvent?.(mapping, event);
          },
        });
        mappings.set(mapping.uuid, running);
        return running;
      });
      await Promise.all(started.map((running) => running.ready));
    };
    cleanup.push(async () => {
      await Promise.all([...mappings.values()].map((running) => running.stop()));
    });
    await startMappings(app.mappings);

    const schedules: RunningSchedules[] = [];
    const startRules = (rules: LocalApp['schedules']) =>
      schedules.push(
        startSchedules(rules, {
          invoke,
          region: LOCAL_REGION,
          accountId: LOCAL_ACCOUNT_ID,
          ...(options.scheduleIntervalMs === undefined
            ? {}
            : { intervalMs: options.scheduleIntervalMs }),
          ...(options.onScheduleFiring === undefined ? {} : { onFiring: options.onScheduleFiring }),
        }),
      );
    cleanup.push(async () => {
      await Promise.all(schedules.map((running) => running.stop()));
    });
    startRules(app.schedules);

    if (stateFile) await writeStateFile(stateFile, app, endpoints);

    const publishCode = async (functionName: string, codeDirectory: string) => {
      const version = await functions.publishWarm(functionName, codeDirectory);
      const name = functions.resolve(functionName).function.name;
      for (const mapping of app.mappings) {
        // The mapping names its function as a name, `name:qualifier` or an ARN.
        const { name: target } = parseFunctionName(mapping.functionName, undefined);
        if (target === name) mappings.get(mapping.uuid)?.pollNow();
      }
      return version;
    };
    // One change at a time: two adds at once would both provision against the same old app.
    let adding: Promise<unknown> = Promise.resolve();
    const addResources = (added: LocalApp) => {
      const next = adding.then(async () => {
        for (const mapping of added.mappings) validateMappingConfig(mapping);
        const result = await provision(added, {
          endpoints: servers.endpoints,
          kinesisFeatures: servers.kinesis.features,
        });
        for (const note of result.notes) options.onNote?.(note);
        for (const [from, to] of result.replacements) replacements.set(from, to);
        // A new mapping or function may name a queue or consumer that ran before the change.
        const made = replaceStrings(result.app, replacements);
        for (const fn of made.functions) functions.addFunction(fn);
        app = withAddedResources(app, made);
        await startMappings(made.mappings);
        startRules(made.schedules);
        if (stateFile) await writeStateFile(stateFile, app, endpoints);
        return made;
      });
      adding = next.catch(() => undefined);
      return next;
    };
    return {
      get app() {
        return app;
      },
      endpoints,
      servers,
      functions,
      lambdaApi,
      mappings,
      publishCode,
      addResources,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * The role a mapping's events name as `invokeIdentityArn`: the execution role the template gives
 * the function. A template without one (hand-written, not CDK) gets a role named after the function.
 * Internal: exported for tests.
 */
export function executionRoleArn(app: LocalApp, mapping: EventSourceMappingConfig): string {
  const fn = app.functions.find((candidate) => candidate.name === mapping.functionName);
  return fn?.roleArn ?? `arn:aws:iam::${app.accountId}:role/${mapping.functionName}-role`;
}
