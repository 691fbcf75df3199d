/**
 * Where the integration suite runs: the embedded stack (started and stopped by the suite; what CI
 * proves) or resources already deployed on LocalStack by `npm run deploy:local`
 * (`DRIVERLESS_TARGET=localstack`, i.e. `npm run test:localstack`).
 *
 * Resources are found the same way on both targets: through the Lambda API (ListFunctions,
 * ListEventSourceMappings). The functions' own environment names the tables, the dead-letter
 * queue, the source and the jobs, and their mappings name the streams. So the LocalStack path runs
 * the same discovery code that CI exercises on the embedded stack. `@aws-sdk/client-cloudformation`
 * is not installed, so the CloudFormation stack's outputs are not read.
 *
 * HONEST NOTE: the LocalStack path has only been type-checked, never run here (no Docker on the
 * machine that wrote it). LocalStack's Kinesis ESM skips bisect, parallelization factor and
 * windows; the tests it runs do not depend on them.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import {
  type EventSourceMappingConfiguration,
  type FunctionConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  documentClient,
  kinesisClient,
  lambdaClient,
  s3Client,
  sqsClient,
} from '../../../emulator/clients';
import { type EmbeddedStack, startEmbeddedStack } from '../../../emulator/embedded-stack';
import type { EsmTuning } from '../../../emulator/esm';
import { synthesize } from '../../../emulator/synth';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../../fixtures/dynamo-fault-proxy';
import { MappingEventLog } from './mapping-events';

export type TargetKind = 'embedded' | 'localstack';

/**
 * The target chosen by `DRIVERLESS_TARGET` (read once, at load time, so suites can pick
 * `describe` or `describe.skip` for embedded-only tests).
 */
export function targetKind(value = process.env.DRIVERLESS_TARGET): TargetKind {
  if (value === undefined || value === '' || value === 'embedded') return 'embedded';
  if (value === 'localstack') return 'localstack';
  throw new Error(`DRIVERLESS_TARGET must be embedded or localstack (given ${value})`);
}

/**
 * LocalStack's edge endpoint: `LOCALSTACK_ENDPOINT`, else `AWS_ENDPOINT_URL`, else
 * http://localhost:4566.
 */
export function localStackEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCALSTACK_ENDPOINT || env.AWS_ENDPOINT_URL || 'http://localhost:4566';
}

/** A mapping that feeds a function, and the stream it reads. */
export interface DiscoveredMapping {
  readonly uuid: string;
  readonly streamName: string;
}

/** A function of a deployed Driverless pipeline, as the Lambda API describes it. */
export interface DiscoveredFunction {
  readonly name: string;
  /** `DRIVERLESS_SOURCE`. */
  readonly source: string;
  /** `DRIVERLESS_JOBS` (`a,b` or `!a`), undefined when the function runs every job. */
  readonly jobs: string | undefined;
  readonly environment: Readonly<Record<string, string>>;
  readonly mappings: readonly DiscoveredMapping[];
}

/** SDK clients for the target's API endpoints (the test's own view, never through a proxy). */
export interface TargetClients {
  readonly kinesis: KinesisClient;
  readonly documents: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly lambda: LambdaClient;
}

interface TargetBase {
  readonly clients: TargetClients;
  /** The functions of the pipeline under test. */
  readonly functions: readonly DiscoveredFunction[];
  stop(): Promise<void>;
}

/** Resources already deployed on LocalStack; nothing to start, nothing to stop. */
export interface LocalStackTarget extends TargetBase {
  readonly kind: 'localstack';
  readonly endpoint: string;
}

/** An embedded stack the suite started, with the instrumentation only it offers. */
export interface EmbeddedTarget extends TargetBase {
  readonly kind: 'embedded';
  readonly stack: EmbeddedStack;
  /** Every mapping's checkpoints, in order. */
  readonly mappingEvents: MappingEventLog;
  /** The functions' DynamoDB endpoint: a proxy that can make one table slow. */
  readonly dynamoProxy: DynamoFaultProxy;
}

export type Target = EmbeddedTarget | LocalStackTarget;

/** Options of {@link startTarget}. */
export interface StartTargetOptions {
  /** The pipeline to test (`DRIVERLESS_PIPELINE` of its functions). */
  readonly pipeline: string;
  /** Embedded only: mapping timings, scaled down for tests. */
  readonly tuning?: Partial<EsmTuning>;
}

/**
 * Embedded: synthesizes the app into a temporary directory (never the shared `cdk.out`, which
 * concurrent runs and `npm start` use), starts the stack with the functions' DynamoDB endpoint
 * behind a slow-table proxy, and records mapping events. LocalStack: attaches to what
 * `npm run deploy:local` deployed.
 */
export async function startTarget(kind: TargetKind, options: StartTargetOptions): Promise<Target> {
  return kind === 'embedded' ? startEmbedded(options) : attachToLocalStack(options);
}

async function startEmbedded(options: StartTargetOptions): Promise<EmbeddedTarget> {
  const projectDir = resolve(__dirname, '../../..');
  // A fresh directory per run, inside the project on purpose: the runtime loads its dead-letter
  // SQS client with a dynamic `import()`, which esbuild keeps in the bundle and which resolves
  // bare specifiers from the bundle's own directory upwards. NODE_PATH (how the function host
  // provides the runtime's SDK) does not apply to `import()`, so a bundle under /tmp cannot load
  // `@aws-sdk/client-sqs` and every dead letter goes undelivered. Under the project, the lookup
  // reaches the project's node_modules.
  const scratch = resolve(projectDir, '.driverless');
  await mkdir(scratch, { recursive: true });
  const outdir = await mkdtemp(join(scratch, 'it-assembly-'));
  const cleanup: (() => Promise<void>)[] = [() => rm(outdir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    await synthesize(projectDir, outdir);
    const dynamoProxy = await startDynamoFaultProxy();
    cleanup.push(() => dynamoProxy.close());
    const mappingEvents = new MappingEventLog();
    const stack = await startEmbeddedStack({
      assemblyDir: outdir,
      ...(options.tuning === undefined ? {} : { tuning: options.tuning }),
      onMappingEvent: mappingEvents.listener,
      functionEnvironment: { AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.endpoint },
    });
    cleanup.push(() => stack.stop());
    // No function has run yet (the streams are empty), so none has sent a request to the proxy.
    dynamoProxy.setUpstream(stack.endpoints.dynamodb);
    const clients: TargetClients = {
      kinesis: kinesisClient(stack.endpoints.kinesis),
      documents: documentClient(stack.endpoints.dynamodb),
      sqs: sqsClient(stack.endpoints.sqs),
      s3: s3Client(stack.endpoints.s3),
      lambda: lambdaClient(stack.endpoints.lambda),
    };
    const functions = await discoverPipeline(clients.lambda, options.pipeline);
    return {
      kind: 'embedded',
      clients,
      functions,
      stack,
      mappingEvents,
      dynamoProxy,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function attachToLocalStack(options: StartTargetOptions): Promise<LocalStackTarget> {
  const endpoint = localStackEndpoint();
  // The embedded stack's client factories fit LocalStack too: explicit endpoint, us-east-1,
  // dummy credentials, HTTP/1.1, SQS requests kept on the endpoint whatever host a queue URL names.
  const clients: TargetClients = {
    kinesis: kinesisClient(endpoint),
    documents: documentClient(endpoint),
    sqs: sqsClient(endpoint),
    s3: s3Client(endpoint),
    lambda: lambdaClient(endpoint),
  };
  const functions = await discoverPipeline(clients.lambda, options.pipeline).catch(
    (error: unknown) => {
      throw new Error(
        `cannot list the functions on LocalStack at ${endpoint} (start it with ` +
          '`docker compose -f localstack/docker-compose.yml up -d`, then `npm run deploy:local`): ' +
          (error instanceof Error ? error.message : String(error)),
      );
    },
  );
  return { kind: 'localstack', endpoint, clients, functions, stop: async () => undefined };
}

/** The stream an event source ARN reads: a stream ARN, or a consumer ARN under it. */
function streamNameOf(eventSourceArn: string): string {
  const name = /:stream\/([^/]+)/.exec(eventSourceArn)?.[1];
  if (name === undefined)
    throw new Error(`event source ${eventSourceArn} is not a Kinesis stream or consumer ARN`);
  return name;
}

/**
 * The functions whose `DRIVERLESS_PIPELINE` is `pipeline`, with the Kinesis mappings that feed
 * them (on any qualifier: the pipeline's mappings point at the `live` alias).
 */
export async function discoverPipeline(
  lambda: LambdaClient,
  pipeline: string,
): Promise<DiscoveredFunction[]> {
  const configurations: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
    configurations.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  const mappings: EventSourceMappingConfiguration[] = [];
  do {
    const page = await lambda.send(new ListEventSourceMappingsCommand({ Marker: marker }));
    mappings.push(...(page.EventSourceMappings ?? []));
    marker = page.NextMarker;
  } while (marker);

  const functions = configurations.flatMap((configuration): DiscoveredFunction[] => {
    const environment = configuration.Environment?.Variables ?? {};
    // arn:aws:lambda:<region>:<account>:function:<name>[:<version>]; mappings may name a qualifier.
    const arn = configuration.FunctionArn?.split(':').slice(0, 7).join(':');
    if (environment.DRIVERLESS_PIPELINE !== pipeline || !configuration.FunctionName || !arn)
      return [];
    const feeding = mappings.filter(
      (m) =>
        m.FunctionArn !== undefined &&
        (m.FunctionArn === arn || m.FunctionArn.startsWith(`${arn}:`)) &&
        m.EventSourceArn?.startsWith('arn:aws:kinesis:'),
    );
    return [
      {
        name: configuration.FunctionName,
        source: environment.DRIVERLESS_SOURCE ?? '',
        jobs: environment.DRIVERLESS_JOBS,
        environment,
        mappings: feeding.map((m) => ({
          uuid: m.UUID ?? '',
          streamName: streamNameOf(m.EventSourceArn ?? ''),
        })),
      },
    ];
  });
  if (functions.length === 0)
    throw new Error(`no function with DRIVERLESS_PIPELINE=${pipeline} was found`);
  return functions;
}
