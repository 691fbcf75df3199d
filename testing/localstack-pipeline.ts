import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListStreamsCommand } from '@aws-sdk/client-kinesis';
import {
  type EventSourceMappingConfiguration,
  type FunctionConfiguration,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
  ListTagsCommand,
} from '@aws-sdk/client-lambda';
import { ListBucketsCommand } from '@aws-sdk/client-s3';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import {
  documentClient,
  dynamoClient,
  kinesisClient,
  lambdaClient,
  s3Client,
  sqsClient,
} from '../emulator/index';
import { type AppModel, functionsNamed, type ModelFunction, streamNamed } from './app-model';
import { DeadLetterReader } from './dead-letter-reader';
import type { LocalClients, LocalPipeline } from './local-pipeline';
import { putRecords } from './put-records';
import type { StartLocalOptions } from './start-local';

/** The tag CloudFormation puts on every resource it creates. */
const STACK_TAG = 'aws:cloudformation:stack-name';

/** LocalStack's edge endpoint, as LocalStack's own tools find it. */
export function localStackEndpoint(
  options: Pick<StartLocalOptions, 'endpoint'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return (
    options.endpoint || env.LOCALSTACK_ENDPOINT || env.AWS_ENDPOINT_URL || 'http://localhost:4566'
  );
}

const unsupported = (what: string, instead: string) => () => {
  throw new Error(`${what} is not available on LocalStack: ${instead}`);
};

/**
 * Attaches to an app deployed on LocalStack (`cdklocal deploy`): finds its resources through the
 * APIs (functions and their mappings through the Lambda API, the rest by listing), and offers the
 * same `put` and `deadLetters`. LocalStack reports nothing of its mappings' progress and runs
 * functions in its own containers, so `drained`, `invocations` and `faults` are embedded only.
 */
export async function attachLocalStack(options: StartLocalOptions): Promise<LocalPipeline> {
  const endpoint = localStackEndpoint(options);
  // The embedded stack's client factories fit LocalStack too: explicit endpoint, us-east-1,
  // dummy credentials, SQS requests kept on the endpoint whatever host a queue URL names.
  const clients: LocalClients = {
    kinesis: kinesisClient(endpoint),
    dynamodb: dynamoClient(endpoint),
    documents: documentClient(endpoint),
    sqs: sqsClient(endpoint),
    s3: s3Client(endpoint),
    lambda: lambdaClient(endpoint),
  };
  let model: AppModel;
  try {
    model = await discover(clients, options.stack);
  } catch (error) {
    for (const client of Object.values(clients)) client.destroy();
    throw new Error(
      `cannot read the app on LocalStack at ${endpoint} (is LocalStack running, and the app ` +
        `deployed with cdklocal?): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const letters = new DeadLetterReader(clients.sqs, clients.s3);
  let stopped = false;
  return {
    target: 'localstack',
    endpoints: {
      kinesis: endpoint,
      dynamodb: endpoint,
      sqs: endpoint,
      s3: endpoint,
      lambda: endpoint,
    },
    clients,
    resources: model.resources,
    async put(sourceOrStream, records) {
      return putRecords(clients.kinesis, streamNamed(model, sourceOrStream), records);
    },
    drained: unsupported(
      'drained()',
      'LocalStack does not report which records its mappings processed; wait for the effect you expect (an item in a table, a letter)',
    ),
    deadLetters: (source) => letters.read(functionsNamed(model, source)),
    invocations: unsupported('invocations()', 'read the function logs in LocalStack'),
    faults: {
      function: unsupported('faults.function()', 'run fault tests on the embedded target'),
      table: unsupported('faults.table()', 'run fault tests on the embedded target'),
      clear: () => undefined,
    },
    // Nothing was started: the deployment stays for the next run.
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const client of Object.values(clients)) client.destroy();
    },
  };
}

async function discover(clients: LocalClients, stackName: string | undefined): Promise<AppModel> {
  const configurations: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await clients.lambda.send(new ListFunctionsCommand({ Marker: marker }));
    configurations.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  const mappings: EventSourceMappingConfiguration[] = [];
  do {
    const page = await clients.lambda.send(new ListEventSourceMappingsCommand({ Marker: marker }));
    mappings.push(...(page.EventSourceMappings ?? []));
    marker = page.NextMarker;
  } while (marker);

  const functions: ModelFunction[] = [];
  for (const configuration of configurations) {
    const name = configuration.FunctionName;
    const arn = configuration.FunctionArn?.split(':').slice(0, 7).join(':');
    if (!name || !arn) continue;
    if (stackName !== undefined) {
      const tags = await clients.lambda.send(new ListTagsCommand({ Resource: arn }));
      if (tags.Tags?.[STACK_TAG] !== stackName) continue;
    }
    const environment = configuration.Environment?.Variables ?? {};
    const streams = mappings
      .filter((m) => m.FunctionArn === arn || m.FunctionArn?.startsWith(`${arn}:`))
      .map((m) => /:stream\/([^/]+)/.exec(m.EventSourceArn ?? '')?.[1])
      .filter((stream): stream is string => stream !== undefined);
    functions.push({
      name,
      logicalId: undefined,
      source: environment.DRIVERLESS_SOURCE,
      streams: [...new Set(streams)],
      environment,
      timeoutSeconds: configuration.Timeout ?? 3,
    });
  }
  const streamNames = (await clients.kinesis.send(new ListStreamsCommand({}))).StreamNames ?? [];
  const tables = (await clients.dynamodb.send(new ListTablesCommand({}))).TableNames ?? [];
  const queues = (await clients.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
  const buckets = (await clients.s3.send(new ListBucketsCommand({}))).Buckets ?? [];
  const unknown = (name: string) => ({ name, logicalId: undefined });
  const streamArns = new Map<string, string>();
  for (const mapping of mappings) {
    const stream = /:stream\/([^/]+)/.exec(mapping.EventSourceArn ?? '')?.[1];
    if (stream && mapping.EventSourceArn) {
      streamArns.set(stream, mapping.EventSourceArn.replace(/(:stream\/[^/]+).*$/, '$1'));
    }
  }
  return {
    resources: {
      streams: streamNames.map(unknown),
      tables: tables.map(unknown),
      queues: queues.map((url) => unknown(url.slice(url.lastIndexOf('/') + 1))),
      buckets: buckets.flatMap((b) => (b.Name ? [unknown(b.Name)] : [])),
      functions,
    },
    functions,
    streamArns,
  };
}
