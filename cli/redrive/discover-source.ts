import {
  type FunctionConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { ENVIRONMENT } from '../../functions/runtime/environment';
import { RedriveUsageError } from './redrive-error';

/** A function of the source: where its dead letters and on-failure pointers are, what it runs. */
export interface SourceFunction {
  readonly name: string;
  /** `DRIVERLESS_JOBS` of the function (`a,b` or `!a`); undefined runs every job. */
  readonly jobs: string | undefined;
  readonly deadLetterQueueUrl: string | undefined;
  /**
   * `DRIVERLESS_DEAD_LETTER_BUCKET`: the dead letters' bucket when the function has no queue, else
   * where letters too large for SQS keep their payload (the runtime picks its sink the same way).
   */
  readonly deadLetterBucket: string | undefined;
  /** `DRIVERLESS_CHECKPOINT_TABLE`: the function keeps per-job cursors. */
  readonly checkpointTable: string | undefined;
  /** SQS on-failure destinations (ARNs) of the function's Kinesis mappings. */
  readonly onFailureQueueArns: readonly string[];
  /** S3 on-failure destinations (bucket names) of the function's Kinesis mappings. */
  readonly onFailureBuckets: readonly string[];
}

/** The functions of one source, found through the Lambda API (AWS, LocalStack, embedded stack). */
export interface DiscoveredSource {
  readonly source: string;
  readonly functions: readonly SourceFunction[];
}

/** `arn:<partition>:s3:::<bucket>`: a bucket ARN has no region or account. */
const BUCKET_ARN = /^arn:[^:]+:s3:::([^/]+)$/;

async function listFunctions(lambda: LambdaClient): Promise<FunctionConfiguration[]> {
  const configurations: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
    configurations.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return configurations;
}

/** The job names a `DRIVERLESS_JOBS` value names, positively or as `!job`. */
export function namedJobs(spec: string | undefined): { included: string[]; excluded: string[] } {
  const entries = (spec ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return {
    included: entries.filter((entry) => !entry.startsWith('!')),
    excluded: entries.filter((entry) => entry.startsWith('!')).map((entry) => entry.slice(1)),
  };
}

/**
 * Finds the functions whose `DRIVERLESS_SOURCE` is `source`, narrowed to the one running `job`
 * when given. A job is known when some function names it in `DRIVERLESS_JOBS`: an isolated
 * job's own function, or the main function when it lists its jobs.
 */
export async function discoverSource(
  lambda: LambdaClient,
  source: string,
  job?: string,
): Promise<DiscoveredSource> {
  const all = await listFunctions(lambda);
  const ofSource = all.filter(
    (configuration) => configuration.Environment?.Variables?.[ENVIRONMENT.source] === source,
  );
  if (ofSource.length === 0) {
    const known = [
      ...new Set(all.flatMap((c) => c.Environment?.Variables?.[ENVIRONMENT.source] ?? [])),
    ].sort();
    throw new RedriveUsageError(
      `unknown source "${source}" (sources: ${known.length > 0 ? known.join(', ') : 'none deployed'})`,
    );
  }
  let selected = ofSource;
  if (job !== undefined) {
    selected = ofSource.filter((c) =>
      namedJobs(c.Environment?.Variables?.[ENVIRONMENT.jobs]).included.includes(job),
    );
    if (selected.length === 0) {
      const known = [
        ...new Set(
          ofSource.flatMap((c) => {
            const named = namedJobs(c.Environment?.Variables?.[ENVIRONMENT.jobs]);
            return [...named.included, ...named.excluded];
          }),
        ),
      ].sort();
      throw new RedriveUsageError(
        `unknown job "${job}" of source "${source}": --job takes a job that runs in its own function ` +
          `(${known.length > 0 ? known.join(', ') : 'this source isolates no job'}); omit --job to redrive the whole source`,
      );
    }
  }
  const functions: SourceFunction[] = [];
  for (const configuration of selected) {
    const name = configuration.FunctionName ?? '';
    const mappings = [];
    let marker: string | undefined;
    do {
      const page = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: name, Marker: marker }),
      );
      mappings.push(...(page.EventSourceMappings ?? []));
      marker = page.NextMarker;
    } while (marker);
    const variables = configuration.Environment?.Variables ?? {};
    const destinations = mappings
      .filter((m) => m.EventSourceArn?.includes(':kinesis:'))
      .flatMap((m) => m.DestinationConfig?.OnFailure?.Destination ?? []);
    functions.push({
      name,
      jobs: variables[ENVIRONMENT.jobs],
      deadLetterQueueUrl: variables[ENVIRONMENT.deadLetterQueueUrl],
      deadLetterBucket: variables[ENVIRONMENT.deadLetterBucket],
      checkpointTable: variables[ENVIRONMENT.checkpointTable],
      onFailureQueueArns: [
        ...new Set(destinations.filter((arn) => arn.startsWith('arn:aws:sqs:'))),
      ],
      onFailureBuckets: [
        ...new Set(destinations.flatMap((arn) => BUCKET_ARN.exec(arn)?.[1] ?? [])),
      ],
    });
  }
  return { source, functions };
}
