import { existsSync, readFileSync } from 'node:fs';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import {
  type EventSourceMappingConfiguration,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  SETTLED_RECORDS_PATH,
  type SettledPage,
  STATE_FILE,
  type StackStateAsRead,
} from '../../emulator/index';
import { fail } from '../cli-error';
import { type KinesisTarget, kinesisTarget } from '../run/read-stream-batches';
import type { TrackedMapping } from './settled-tracker';

/** Where `put` writes, and how it can follow the records it wrote. */
export interface PutTarget {
  readonly kinesis: KinesisTarget;
  readonly streamName: string;
  readonly streamArn: string;
  readonly shards: number;
  /**
   * The running embedded stack's view of its mappings, when `put` writes to one: the enabled
   * mappings of the stream and a reader of what they settled. Undefined on AWS, where a producer
   * cannot see what a mapping did with its record.
   */
  readonly local?: {
    readonly mappings: readonly TrackedMapping[];
    readonly settled: (after: number) => Promise<SettledPage>;
  };
}

function readState(): StackStateAsRead | undefined {
  if (!existsSync(STATE_FILE)) return undefined;
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as StackStateAsRead;
  } catch {
    return undefined;
  }
}

/** `--stream` as given, or the physical name of the stream a state file lists under that logical id. */
function streamNameIn(state: StackStateAsRead | undefined, given: string): string {
  const byLogicalId = state?.streams?.[given];
  return byLogicalId?.name ?? given;
}

function labelOf(state: StackStateAsRead, functionName: string): string {
  const fn = Object.values(state.functions ?? {}).find((f) => f.name === functionName);
  const source = fn?.environment?.DRIVERLESS_SOURCE;
  const jobs = fn?.environment?.DRIVERLESS_JOBS;
  // Named as the live view of `npm start` names it: the source, with the jobs of a function
  // that runs only some; a function outside a pipeline by its name.
  if (source === undefined) return functionName;
  return jobs && !jobs.startsWith('!') ? `${source} [${jobs}]` : source;
}

function functionNameOf(mapping: EventSourceMappingConfiguration): string {
  const arn = mapping.FunctionArn ?? '';
  // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  return arn.split(':')[6] ?? arn;
}

/**
 * Resolves `--stream` against the Kinesis endpoint (`--endpoint`, AWS_ENDPOINT_URL*, the running
 * stack's `.driverless/local.json`, then AWS, as `run --stream` does) and checks the stream is
 * there (exit 2 otherwise, naming the streams the state file knows). When the endpoint is the
 * running embedded stack's, also finds the stream's enabled mappings through its Lambda API.
 */
export async function resolvePutTarget(
  stream: string,
  endpoint: string | undefined,
): Promise<PutTarget> {
  const kinesis = kinesisTarget(endpoint);
  const state = readState();
  const local = state?.endpoints?.kinesis === kinesis.endpoint ? state : undefined;
  const streamName = streamNameIn(local, stream);
  let summary: { arn: string; shards: number };
  try {
    const described = await kinesis.client.send(
      new DescribeStreamSummaryCommand({ StreamName: streamName }),
    );
    summary = {
      arn: described.StreamDescriptionSummary?.StreamARN ?? streamName,
      shards: described.StreamDescriptionSummary?.OpenShardCount ?? 0,
    };
  } catch (error) {
    const { name, code } = error as { name?: string; code?: string };
    if (name === 'ResourceNotFoundException') {
      const known = Object.values(local?.streams ?? {}).map((s) => s.name);
      fail(
        `stream ${stream} does not exist at ${kinesis.endpoint}${known.length > 0 ? ` (streams there: ${known.join(', ')})` : ''}`,
      );
    }
    if (
      /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|TimeoutError/.test(`${code} ${name} ${error}`)
    )
      fail(
        `cannot reach Kinesis at ${kinesis.endpoint} (${code ?? name}): start the stack (npm start, driverless dev) or pass --endpoint <url>`,
      );
    fail(
      `cannot describe stream ${streamName} at ${kinesis.endpoint}: ${name}: ${(error as Error).message}`,
    );
  }
  const lambdaEndpoint = local?.endpoints?.lambda;
  if (!local || !lambdaEndpoint) {
    return { kinesis, streamName, streamArn: summary.arn, shards: summary.shards };
  }
  const lambda = new LambdaClient({
    endpoint: lambdaEndpoint,
    region: local.region ?? 'us-east-1',
    credentials: local.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3000 }),
    maxAttempts: 2,
  });
  const mappings: TrackedMapping[] = [];
  let marker: string | undefined;
  do {
    // Unfiltered: a mapping reading through an enhanced fan-out consumer names the consumer's
    // ARN (<stream ARN>/consumer/<name>:<time>), which an EventSourceArn filter would leave out.
    const page = await lambda.send(
      new ListEventSourceMappingsCommand(marker === undefined ? {} : { Marker: marker }),
    );
    for (const mapping of page.EventSourceMappings ?? []) {
      const source = mapping.EventSourceArn ?? '';
      const reads = source === summary.arn || source.startsWith(`${summary.arn}/consumer/`);
      if (reads && mapping.State === 'Enabled' && mapping.UUID !== undefined)
        mappings.push({ uuid: mapping.UUID, label: labelOf(local, functionNameOf(mapping)) });
    }
    marker = page.NextMarker;
  } while (marker);
  const settled = async (after: number): Promise<SettledPage> => {
    const response = await fetch(`${lambdaEndpoint}${SETTLED_RECORDS_PATH}?after=${after}`);
    if (!response.ok)
      fail(
        `the embedded stack at ${lambdaEndpoint} does not report settled records (HTTP ${response.status}): restart it with this version of driverless`,
      );
    return (await response.json()) as SettledPage;
  };
  return {
    kinesis,
    streamName,
    streamArn: summary.arn,
    shards: summary.shards,
    local: { mappings, settled },
  };
}
