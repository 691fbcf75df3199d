import {
  type FunctionConfiguration,
  type LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { ENVIRONMENT } from '../../functions/runtime/environment';
import { fail } from '../cli-error';

/** A function of the source a backfill invokes. */
export interface BackfillFunction {
  readonly name: string;
  readonly timeoutMs: number;
}

/** What a backfill needs to know about a source, all read through the Lambda API. */
export interface BackfillSource {
  readonly source: string;
  /** The main function first, then one per isolated job: each runs its own jobs over every slice. */
  readonly functions: readonly BackfillFunction[];
  /** The stream the source's mappings read (a consumer's ARN is cut back to its stream). */
  readonly streamArn: string | undefined;
  /** `DRIVERLESS_CHECKPOINT_TABLE`: per-job cursors, and where the backfill keeps its progress. */
  readonly checkpointTable: string | undefined;
  /** `DRIVERLESS_BACKFILL_CONCURRENCY`: what the pipeline's concurrency budget leaves to backfills. */
  readonly concurrencyHeadroom: number | undefined;
}

/** `arn:…:stream/<name>/consumer/<consumer>:<time>` → `arn:…:stream/<name>`. */
export function streamArnOf(eventSourceArn: string): string {
  const consumer = eventSourceArn.indexOf('/consumer/');
  return consumer === -1 ? eventSourceArn : eventSourceArn.slice(0, consumer);
}

async function listFunctions(lambda: LambdaClient): Promise<FunctionConfiguration[]> {
  const all: FunctionConfiguration[] = [];
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ Marker: marker }));
    all.push(...(page.Functions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return all;
}

/** Finds the source's functions (by `DRIVERLESS_SOURCE`), its stream and its checkpoint table. */
export async function findSource(lambda: LambdaClient, source: string): Promise<BackfillSource> {
  const all = await listFunctions(lambda);
  const ofSource = all.filter((c) => c.Environment?.Variables?.[ENVIRONMENT.source] === source);
  if (ofSource.length === 0) {
    const known = [
      ...new Set(all.flatMap((c) => c.Environment?.Variables?.[ENVIRONMENT.source] ?? [])),
    ].sort();
    fail(
      `unknown source "${source}" (sources: ${known.length > 0 ? known.join(', ') : 'none deployed'})`,
    );
  }
  // The main function runs every job but the isolated ones ("!a,!b" or unset): it goes first.
  const isMain = (c: FunctionConfiguration) => {
    const jobs = c.Environment?.Variables?.[ENVIRONMENT.jobs];
    return jobs === undefined || jobs.split(',').every((j) => j.trim().startsWith('!'));
  };
  ofSource.sort((a, b) => Number(isMain(b)) - Number(isMain(a)));
  const streams = new Set<string>();
  for (const configuration of ofSource) {
    let marker: string | undefined;
    do {
      const page = await lambda.send(
        new ListEventSourceMappingsCommand({
          FunctionName: configuration.FunctionName,
          Marker: marker,
        }),
      );
      for (const mapping of page.EventSourceMappings ?? []) {
        if (mapping.EventSourceArn?.includes(':kinesis:')) {
          streams.add(streamArnOf(mapping.EventSourceArn));
        }
      }
      marker = page.NextMarker;
    } while (marker);
  }
  const variables = ofSource[0]?.Environment?.Variables ?? {};
  const headroom = variables[ENVIRONMENT.backfillConcurrency];
  return {
    source,
    functions: ofSource.map((c) => ({
      name: c.FunctionName ?? '',
      timeoutMs: (c.Timeout ?? 3) * 1000,
    })),
    streamArn: [...streams][0],
    checkpointTable: variables[ENVIRONMENT.checkpointTable],
    concurrencyHeadroom: headroom === undefined ? undefined : Number(headroom),
  };
}
