// What the local-stack scenarios share: a Kinesis emulator process, handler bundles built with
// esbuild as the construct builds them, a FunctionHost running them, event source mappings
// started directly (the embedded stack's own pieces, without a CDK app in between), paced
// producers, and end-to-end latencies from the mapping's checkpoint events.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { build } from 'esbuild';
import {
  ESM_DEFAULTS,
  type EsmEvent,
  type EsmTuning,
  type EventSourceMappingConfig,
  FunctionHost,
  type KinesisServer,
  kinesisClient,
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  type LocalFunction,
  type RunningMapping,
  startEventSourceMapping,
  startKinesis,
} from '../../emulator/index';
import { BUNDLE_TARGET, bundleExternals } from '../../lib/function-bundle';
import { removeScratch, scratchDir, sleep } from './report';

const ROOT = join(__dirname, '..', '..');

/**
 * Bundles a benchmark fixture as the construct bundles a function (its target and externals;
 * minified). The bundle sits under the repository, so the externals resolve from its node_modules.
 */
export async function bundleFixture(fixture: string, name: string, code = 'v1'): Promise<string> {
  const directory = scratchDir('functions', name);
  mkdirSync(directory, { recursive: true });
  await build({
    entryPoints: [join(ROOT, 'bench', 'fixtures', fixture)],
    outfile: join(directory, 'index.js'),
    bundle: true,
    ...BUNDLE_TARGET,
    minify: true,
    external: bundleExternals(false),
    define: { BENCH_CODE: JSON.stringify(code) },
    logLevel: 'silent',
  });
  return directory;
}

/** A LocalFunction running `index.handler` from `codeDirectory`. */
export function benchFunction(
  name: string,
  codeDirectory: string,
  environment: Record<string, string> = {},
): LocalFunction {
  return {
    logicalId: `${name.replace(/[^A-Za-z0-9]/g, '')}Function`,
    name,
    arn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${name}`,
    codeDirectory,
    handler: 'index.handler',
    timeoutSeconds: 60,
    memoryMb: 1024,
    environment: {
      POWERTOOLS_LOG_LEVEL: 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      ...environment,
    },
    aliases: ['live'],
  };
}

/**
 * A mapping with AWS defaults (docs/event-source-mapping.md#mapping-parameters) from TRIM_HORIZON
 * of a fresh stream.
 */
export function benchMapping(
  streamArn: string,
  functionName: string,
  overrides: Partial<EventSourceMappingConfig> = {},
): EventSourceMappingConfig {
  return {
    logicalId: `${functionName}Mapping`,
    uuid: `bench-${functionName}-${Math.random().toString(16).slice(2)}`,
    functionName,
    functionQualifier: 'live',
    eventSourceArn: streamArn,
    streamArn,
    ...ESM_DEFAULTS,
    startingPosition: 'TRIM_HORIZON',
    filters: [],
    reportBatchItemFailures: true,
    ...overrides,
  };
}

/** A Kinesis emulator process and a function host: the parts of the embedded stack a scenario needs. */
export interface Rig {
  readonly kinesis: KinesisClient;
  readonly server: KinesisServer;
  readonly host: FunctionHost;
  /** Starts a mapping into the host; `onEvent` sees its events. */
  startMapping(
    config: EventSourceMappingConfig,
    onEvent?: (event: EsmEvent) => void,
  ): RunningMapping;
  /** Creates a 1-shard stream and waits until it is active. */
  createStream(prefix: string): Promise<{ readonly name: string; readonly arn: string }>;
  stop(): Promise<void>;
}

let streams = 0;

export async function startRig(
  functions: readonly LocalFunction[],
  tuning: Partial<EsmTuning>,
): Promise<Rig> {
  const server = await startKinesis({ engine: 'kinesalite' });
  let host: FunctionHost;
  try {
    host = new FunctionHost(functions, {
      environment: { AWS_ENDPOINT_URL_KINESIS: server.endpoint },
      region: LOCAL_REGION,
    });
  } catch (error) {
    // The server's IPC channel would keep this process alive.
    await server.stop();
    throw error;
  }
  const kinesis = kinesisClient(server.endpoint);
  return {
    kinesis,
    server,
    host,
    startMapping(config, onEvent) {
      return startEventSourceMapping(config, {
        kinesis,
        invoke: (name, qualifier, event) => host.invoke(name, qualifier, event),
        region: LOCAL_REGION,
        accountId: LOCAL_ACCOUNT_ID,
        roleArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/${config.functionName}-role`,
        tuning,
        ...(onEvent === undefined ? {} : { onEvent }),
      });
    },
    async createStream(prefix) {
      streams += 1;
      const name = `${prefix}-${streams}`;
      await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
      for (;;) {
        const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
        if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
        await sleep(20);
      }
      return { name, arn: `arn:aws:kinesis:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stream/${name}` };
    },
    async stop() {
      await host.stop();
      kinesis.destroy();
      await server.stop();
      removeScratch();
    },
  };
}

/** Puts `count` records in PutRecords calls of up to 500, numbered from `from`. */
export async function putBulk(
  kinesis: KinesisClient,
  stream: string,
  count: number,
  from = 0,
): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const size = Math.min(500, count - start);
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: size }, (_, i) => ({
          PartitionKey: `k${(from + start + i) % 64}`,
          Data: Buffer.from(JSON.stringify({ n: from + start + i, pad: 'x'.repeat(64) })),
        })),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) {
      throw new Error(`${out.FailedRecordCount} records of a PutRecords call to ${stream} failed`);
    }
  }
}

/**
 * Puts records at `ratePerSecond` for `durationMs`, in one PutRecords call per `tickMs`, the
 * way a steady producer would. Resolves with the number of records put.
 */
export async function producePaced(
  kinesis: KinesisClient,
  stream: string,
  ratePerSecond: number,
  durationMs: number,
  tickMs = 50,
): Promise<number> {
  const started = performance.now();
  let put = 0;
  for (let tick = 1; ; tick++) {
    const elapsed = performance.now() - started;
    if (elapsed >= durationMs) break;
    const due = Math.min(
      Math.round((ratePerSecond * Math.min(elapsed + tickMs, durationMs)) / 1000),
      Math.round((ratePerSecond * durationMs) / 1000),
    );
    if (due > put) {
      await putBulk(kinesis, stream, due - put, put);
      put = due;
    }
    const next = started + tick * tickMs - performance.now();
    if (next > 0) await sleep(next);
  }
  return put;
}

/**
 * What one mapping delivered: checkpoint times, latencies, versions. The listener only keeps each
 * checkpoint event's arrays; the per-record work (distinct sequence numbers, latencies) waits
 * until asked, so the benchmark does not tax the pipeline it measures, which shares its thread.
 */
export class Delivery {
  /** Epoch ms of each checkpoint event, with its record count. */
  readonly checkpoints: { readonly at: number; readonly count: number }[] = [];
  /** Executed version of each successful batch, in order. */
  readonly versions: { readonly at: number; readonly version: string }[] = [];
  readonly errors: string[] = [];
  private readonly checkpointed: {
    readonly at: number;
    readonly sequenceNumbers: readonly string[];
    readonly arrivalTimestampsMs: readonly number[];
  }[] = [];
  /** Records in all checkpoint events, repeats included: a cheap upper bound of the distinct count. */
  private checkpointedTotal = 0;
  private readonly distinct = new Set<string>();
  /** Checkpoint events already added to `distinct`. */
  private distinctUpTo = 0;
  private waiters: { count: number; resolve: (reachedAt: number) => void }[] = [];

  /** Sequence numbers of every record checkpointed so far. */
  get sequenceNumbers(): ReadonlySet<string> {
    for (const { sequenceNumbers } of this.checkpointed.slice(this.distinctUpTo)) {
      for (const sequenceNumber of sequenceNumbers) this.distinct.add(sequenceNumber);
    }
    this.distinctUpTo = this.checkpointed.length;
    return this.distinct;
  }

  /** Arrival → checkpoint of every record checkpointed so far, in ms. */
  get latenciesMs(): number[] {
    return this.checkpointed.flatMap(({ at, arrivalTimestampsMs }) =>
      arrivalTimestampsMs.map((arrival) => at - arrival),
    );
  }

  readonly listener = (event: EsmEvent): void => {
    const now = Date.now();
    if (event.type === 'recordsCheckpointed') {
      // Taken before the distinct count below, which is the benchmark's work, not the stack's.
      const arrivedAt = performance.now();
      this.checkpoints.push({ at: now, count: event.count });
      this.checkpointed.push({
        at: now,
        sequenceNumbers: event.sequenceNumbers,
        arrivalTimestampsMs: event.arrivalTimestampsMs,
      });
      this.checkpointedTotal += event.sequenceNumbers.length;
      // Distinct records are counted only once the total could reach a waiter's count.
      if (this.waiters.some((waiter) => waiter.count <= this.checkpointedTotal)) {
        const reached = this.sequenceNumbers.size;
        this.waiters = this.waiters.filter((waiter) => {
          if (reached < waiter.count) return true;
          waiter.resolve(arrivedAt);
          return false;
        });
      }
    } else if (event.type === 'batchResult') {
      if (event.outcome === 'ok') this.versions.push({ at: now, version: event.executedVersion });
      else this.errors.push(`${event.outcome}: ${event.reason ?? event.functionError ?? ''}`);
    } else if (event.type === 'error') {
      this.errors.push(`${event.stage}: ${event.message}`);
    }
  };

  /**
   * Resolves once `count` distinct records were checkpointed, with the `performance.now()` at
   * which the checkpoint event that made the count arrived (now, if it had before the call);
   * `undefined` after `timeoutMs`.
   */
  async waitFor(count: number, timeoutMs: number): Promise<number | undefined> {
    if (this.sequenceNumbers.size >= count) return performance.now();
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<number>((resolve) => {
      this.waiters.push({ count, resolve });
    });
    const timedOut = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    const result = await Promise.race([reached, timedOut]);
    clearTimeout(timer);
    return result;
  }
}
