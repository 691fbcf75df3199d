import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  documentClient,
  dynamoClient,
  type EmbeddedStack,
  kinesisClient,
  lambdaClient,
  s3Client,
  sqsClient,
  startEmbeddedStack,
  synthesize,
} from '../emulator/index';
import { functionsNamed, modelOfApp, streamNamed, tableNamed } from './app-model';
import { DeadLetterReader } from './dead-letter-reader';
import { DrainTracker } from './drain-tracker';
import { startDynamoFaultProxy } from './dynamo-fault-proxy';
import { FunctionFaults } from './function-faults';
import type { LocalClients, LocalPipeline } from './local-pipeline';
import { putRecords } from './put-records';
import type { StartLocalOptions } from './start-local';

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * The app on the embedded stack: synthesized if need be, started with the functions' DynamoDB
 * endpoint behind a fault proxy and their mapping invocations behind the fault switch, and
 * followed through every mapping's events. Everything started is stopped in reverse on failure,
 * on `stop()`, and (processes only) when this process exits.
 */
export async function startEmbeddedPipeline(options: StartLocalOptions): Promise<LocalPipeline> {
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    let assemblyDir: string;
    if (options.app !== undefined) {
      const projectDir = resolve(options.app);
      // Under the project, not /tmp: bundles resolve packages from their own directory upwards.
      // A fresh directory per start: parallel test files must not share an assembly.
      const scratch = join(projectDir, '.driverless');
      await mkdir(scratch, { recursive: true });
      const outdir = await mkdtemp(join(scratch, 'testing-'));
      cleanup.push(() => rm(outdir, { recursive: true, force: true }));
      assemblyDir = await synthesize(projectDir, outdir);
    } else {
      assemblyDir = resolve(options.assembly as string);
    }

    const proxy = await startDynamoFaultProxy();
    cleanup.push(() => proxy.close());
    let tracker: DrainTracker | undefined;
    const recorder = new FunctionFaults();
    const retryDelayMs = options.retryDelayMs ?? 100;
    const stack: EmbeddedStack = await startEmbeddedStack({
      assemblyDir,
      ...(options.stack === undefined ? {} : { stackName: options.stack }),
      tuning: {
        idlePollIntervalMs: options.pollIntervalMs ?? 100,
        retryBackoff: { initialMs: retryDelayMs, multiplier: 2, maxMs: retryDelayMs * 10 },
      },
      // The tracker is made once the app's mappings are known; no mapping reports before the
      // stack has started them, and none has records to report before the first put.
      onMappingEvent: (mapping, event) => tracker?.listener(mapping, event),
      onLog: recorder.onLog,
      wrapInvoke: recorder.wrap,
      functionEnvironment: { AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint },
    });
    cleanup.push(() => stack.stop());
    // No function has run yet (no record was put), so none has sent a request to the proxy.
    proxy.setUpstream(stack.endpoints.dynamodb);
    tracker = new DrainTracker(stack.app.mappings);
    const drain = tracker;

    // The children exit by themselves when this process dies; a process that exits without
    // stop() (a test runner that does not wait) kills them at once.
    const killOnExit = () => {
      const pids = [
        ...stack.servers.pids,
        ...stack.functions.environments().map((environment) => environment.pid),
      ];
      for (const pid of pids) {
        if (pid === undefined) continue;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    };
    process.once('exit', killOnExit);
    cleanup.push(async () => {
      process.removeListener('exit', killOnExit);
    });

    const endpoints = { ...stack.endpoints, lambda: stack.lambdaApi.endpoint };
    const dynamodb = dynamoClient(endpoints.dynamodb);
    const clients: LocalClients = {
      kinesis: kinesisClient(endpoints.kinesis),
      dynamodb,
      documents: documentClient(endpoints.dynamodb),
      sqs: sqsClient(endpoints.sqs),
      s3: s3Client(endpoints.s3),
      lambda: lambdaClient(endpoints.lambda),
    };
    cleanup.push(async () => {
      for (const client of Object.values(clients)) client.destroy();
    });
    const model = modelOfApp(stack.app);
    const letters = new DeadLetterReader(clients.sqs, clients.s3);
    let stopping: Promise<void> | undefined;

    return {
      target: 'embedded',
      endpoints,
      clients,
      resources: model.resources,
      async put(sourceOrStream, records) {
        const streamName = streamNamed(model, sourceOrStream);
        const results = await putRecords(clients.kinesis, streamName, records);
        drain.put(model.streamArns.get(streamName) as string, results);
        return results;
      },
      drained: (drainOptions = {}) =>
        drain.drained(drainOptions.timeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS),
      deadLetters: (source) => letters.read(functionsNamed(model, source)),
      invocations: (name) =>
        functionsNamed(model, name).flatMap((fn) => recorder.invocations(fn.name)),
      faults: {
        function(name, fault) {
          for (const fn of functionsNamed(model, name)) recorder.arm(fn.name, fault);
        },
        table(name, fault) {
          const table = tableNamed(model, name);
          if (fault.kind === 'slow' && !(fault.delayMs >= 0)) {
            throw new Error(`delayMs must be 0 or more (given ${fault.delayMs})`);
          }
          proxy.outage(table, fault.kind === 'fail');
          proxy.slowDown(table, fault.kind === 'slow' ? fault.delayMs : 0);
        },
        clear() {
          recorder.clear();
          for (const table of model.resources.tables) {
            proxy.outage(table.name, false);
            proxy.slowDown(table.name, 0);
          }
        },
      },
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
