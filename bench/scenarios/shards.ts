// Many shards through the local stack: one mapping on a 4-, 8-, 16- and 32-shard stream (one
// reader per shard, one execution environment per shard in flight), its throughput and the
// resident memory of the Kinesis server, the host process and the environments, and how both grow
// with the shard count.
import { readFileSync } from 'node:fs';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../../emulator/index';
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import {
  benchFunction,
  benchMapping,
  bundleFixture,
  Delivery,
  type Rig,
  startRig,
} from './local-rig';
import { checkIntegers, loadNote, round, sleep } from './report';

export interface ShardsBenchmarkConfig {
  /** Shard counts, each on a fresh stream. @default [4, 8, 16, 32] */
  readonly shardCounts: readonly number[];
  /** Records put on each shard before the mapping starts. @default 2000 */
  readonly recordsPerShard: number;
  /** Mapping batch size (AWS default 100). @default 100 */
  readonly batchSize: number;
  /** How often memory is sampled during a run, ms. @default 250 */
  readonly sampleIntervalMs: number;
  readonly progress?: (message: string) => void;
}

export const SHARDS_FULL: ShardsBenchmarkConfig = {
  shardCounts: [4, 8, 16, 32],
  recordsPerShard: 2000,
  batchSize: 100,
  sampleIntervalMs: 250,
};
export const SHARDS_QUICK: ShardsBenchmarkConfig = {
  shardCounts: [1, 2],
  recordsPerShard: 100,
  batchSize: 50,
  sampleIntervalMs: 100,
};

/** Peak resident memory of each part of the stack during one run, MB. */
export interface StackMemory {
  readonly kinesisServerMb: number;
  /** The process running the mapping and the function host (this one). */
  readonly hostMb: number;
  readonly environmentsMb: number;
  readonly totalMb: number;
  /** Execution environments alive at the peak. */
  readonly environments: number;
}

export interface ShardsRun {
  readonly shards: number;
  readonly records: number;
  readonly recordsPerSec: number;
  readonly peak: StackMemory;
}

const FUNCTION = 'shards-e2e';

/** Resident memory of a process in MB, 0 once it is gone. */
function rssMb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function sampleMemory(rig: Rig): StackMemory {
  const environments = rig.host.environments();
  const kinesisServerMb = rssMb(rig.server.pid);
  const hostMb = process.memoryUsage().rss / 1024 / 1024;
  const environmentsMb = environments.reduce((sum, env) => sum + rssMb(env.pid), 0);
  return {
    kinesisServerMb,
    hostMb,
    environmentsMb,
    totalMb: kinesisServerMb + hostMb + environmentsMb,
    environments: environments.length,
  };
}

async function createStream(rig: Rig, name: string, shards: number): Promise<string> {
  await rig.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (;;) {
    const out = await rig.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') break;
    await sleep(20);
  }
  return `arn:aws:kinesis:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:stream/${name}`;
}

/** Puts `count` records with distinct partition keys, so they spread over every shard. */
async function putSpread(rig: Rig, stream: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 500) {
    const size = Math.min(500, count - start);
    const out = await rig.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: size }, (_, i) => ({
          PartitionKey: `key-${start + i}`,
          Data: Buffer.from(JSON.stringify({ n: start + i, pad: 'x'.repeat(64) })),
        })),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) {
      throw new Error(`${out.FailedRecordCount} records of a PutRecords call to ${stream} failed`);
    }
  }
}

export async function runShardsBenchmark(config: ShardsBenchmarkConfig): Promise<ShardsRun[]> {
  checkIntegers(config, ['recordsPerShard', 'batchSize', 'sampleIntervalMs'], 1);
  const progress = config.progress ?? (() => undefined);
  const runs: ShardsRun[] = [];
  for (const shards of config.shardCounts) {
    // A fresh stack per size: memory a larger run leaves behind must not count for the next.
    // Stopping a rig removes its scratch directory, the bundle with it.
    const code = await bundleFixture('cpu-handler.ts', FUNCTION);
    const rig = await startRig([benchFunction(FUNCTION, code)], { idlePollIntervalMs: 100 });
    try {
      const records = shards * config.recordsPerShard;
      progress(`shards: ${shards} shards, loading ${records} records`);
      const stream = `shards-${shards}`;
      const arn = await createStream(rig, stream, shards);
      await putSpread(rig, stream, records);
      // One warm environment per shard, as a stream that flows keeps them warm.
      await Promise.all(
        Array.from({ length: shards }, () => rig.host.invoke(FUNCTION, 'live', { Records: [] })),
      );
      progress(`shards: ${shards} shards, processing`);
      let peak = sampleMemory(rig);
      const sampler = setInterval(() => {
        const now = sampleMemory(rig);
        if (now.totalMb > peak.totalMb) peak = now;
      }, config.sampleIntervalMs);
      const delivery = new Delivery();
      const started = performance.now();
      const mapping = rig.startMapping(
        benchMapping(arn, FUNCTION, { batchSize: config.batchSize }),
        delivery.listener,
      );
      const done = await delivery.waitFor(records, 300_000);
      clearInterval(sampler);
      await mapping.stop();
      if (done === undefined) {
        throw new Error(
          `shards: ${delivery.sequenceNumbers.size} of ${records} records processed on ${shards} shards in 300 s (${delivery.errors[0] ?? 'no error seen'})`,
        );
      }
      runs.push({ shards, records, recordsPerSec: records / ((done - started) / 1000), peak });
    } finally {
      await rig.stop();
    }
  }
  return runs;
}

export function shardsOutput(
  config: ShardsBenchmarkConfig,
  runs: readonly ShardsRun[],
): ScenarioOutput {
  const m = machine();
  const first = runs[0];
  const last = runs[runs.length - 1];
  const growth = (a: number, b: number) => (a > 0 ? b / a : 0);
  const perShardMb =
    first && last && last.shards > first.shards
      ? (last.peak.totalMb - first.peak.totalMb) / (last.shards - first.shards)
      : 0;
  return {
    summary: Object.fromEntries(
      runs.map((run) => [
        `shards${run.shards}`,
        { recordsPerSec: Math.round(run.recordsPerSec), peakMb: Math.round(run.peak.totalMb) },
      ]),
    ),
    detail: {
      description:
        'one mapping over an N-shard kinesalite stream into a microBatch function: records/s, and peak RSS of the Kinesis server, the host process (mapping + function host) and the execution environments',
      machine: { ...m },
      config: {
        shardCounts: [...config.shardCounts],
        recordsPerShard: config.recordsPerShard,
        batchSize: config.batchSize,
      },
      runs: runs.map((run) => ({
        shards: run.shards,
        records: run.records,
        recordsPerSec: Math.round(run.recordsPerSec),
        kinesisServerMb: round(run.peak.kinesisServerMb),
        hostMb: round(run.peak.hostMb),
        environmentsMb: round(run.peak.environmentsMb),
        environments: run.peak.environments,
        totalMb: round(run.peak.totalMb),
      })),
      marginalMbPerShard: round(perShardMb),
    },
    table: {
      headers: [
        'shards',
        'records',
        'records/s',
        'Kinesis server MB',
        'host MB',
        'environments (MB)',
        'total MB',
      ],
      rows: runs.map((run) => [
        String(run.shards),
        String(run.records),
        run.recordsPerSec.toFixed(0),
        run.peak.kinesisServerMb.toFixed(0),
        run.peak.hostMb.toFixed(0),
        `${run.peak.environments} (${run.peak.environmentsMb.toFixed(0)})`,
        run.peak.totalMb.toFixed(0),
      ]),
    },
    notes: [
      first && last
        ? `from ${first.shards} to ${last.shards} shards: throughput ×${growth(first.recordsPerSec, last.recordsPerSec).toFixed(2)}, memory ×${growth(first.peak.totalMb, last.peak.totalMb).toFixed(2)} (about ${perShardMb.toFixed(0)} MB per added shard, nearly all one execution environment each)`
        : 'no runs',
      'memory is the peak of samples taken during the run; dynalite and fauxqs (idle here) add a constant on top',
      loadNote(m.loadAverage, m.cores),
    ],
    charts: {},
  };
}

export const shardsScenario: Scenario = {
  name: 'shards',
  description: 'throughput and memory of the local stack on 4- to 32-shard streams',
  async run(options) {
    const config = options.quick ? SHARDS_QUICK : SHARDS_FULL;
    return shardsOutput(
      config,
      await runShardsBenchmark({ ...config, progress: options.progress }),
    );
  },
};
