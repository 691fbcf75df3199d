// Upgrade without downtime (wall 3): records flow through a mapping into the function's `live`
// alias while FunctionHost.updateCode publishes new code (the local equivalent of CodeDeploy
// shifting `live`). Measured: records/s through the switch, the longest gap between
// checkpoints, and records lost (put but never processed).
import { machine } from '../machine';
import type { Scenario, ScenarioOutput } from '../scenario';
import { spread } from '../stats';
import {
  benchFunction,
  benchMapping,
  bundleFixture,
  Delivery,
  producePaced,
  startRig,
} from './local-rig';
import { cell, checkIntegers, loadNote, round, sleep, spreadChart, spreadJson } from './report';

export interface UpgradeBenchmarkConfig {
  /** Steady producer rate, records/s. @default 300 */
  readonly ratePerSecond: number;
  /** How long records flow, ms; the code is replaced halfway. @default 8000 */
  readonly durationMs: number;
  /** The mapping's MaximumBatchingWindowInSeconds. @default 1 */
  readonly batchingWindowSeconds: number;
  /** @default 3 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const UPGRADE_FULL: UpgradeBenchmarkConfig = {
  ratePerSecond: 300,
  durationMs: 8000,
  batchingWindowSeconds: 1,
  runs: 3,
};
export const UPGRADE_QUICK: UpgradeBenchmarkConfig = {
  ratePerSecond: 100,
  durationMs: 2500,
  batchingWindowSeconds: 1,
  runs: 1,
};

export interface UpgradeRun {
  readonly put: number;
  readonly lost: number;
  readonly longestGapMs: number;
  /** Records/s over the whole run (first put to last checkpoint). */
  readonly recordsPerSec: number;
  /** Records/s checkpointed from the switch to one batching window plus 1 s after it. */
  readonly switchRecordsPerSec: number;
  /** Switch → first batch on the new version, ms. */
  readonly firstNewVersionMs: number;
  readonly versions: string[];
}

export interface UpgradeBenchmarkResult {
  readonly config: Omit<UpgradeBenchmarkConfig, 'progress'>;
  readonly runs: UpgradeRun[];
}

const FUNCTION = 'upgrade';

export async function runUpgradeBenchmark(
  config: UpgradeBenchmarkConfig,
): Promise<UpgradeBenchmarkResult> {
  checkIntegers(config, ['ratePerSecond', 'durationMs', 'batchingWindowSeconds', 'runs'], 1);
  const progress = config.progress ?? (() => undefined);
  const runs: UpgradeRun[] = [];
  const windowMs = config.batchingWindowSeconds * 1000;
  for (let run = 0; run < config.runs; run++) {
    progress(`upgrade: run ${run + 1}/${config.runs}`);
    // A fresh host per run: version 1 is what `live` points at when records start to flow.
    const v1 = await bundleFixture('cpu-handler.ts', `${FUNCTION}-v1`, 'v1');
    const v2 = await bundleFixture('cpu-handler.ts', `${FUNCTION}-v2`, 'v2');
    const rig = await startRig([benchFunction(FUNCTION, v1)], { idlePollIntervalMs: 100 });
    try {
      await rig.host.invoke(FUNCTION, 'live', { Records: [] });
      const stream = await rig.createStream('upgrade');
      const delivery = new Delivery();
      const mapping = rig.startMapping(
        benchMapping(stream.arn, FUNCTION, {
          batchSize: 10_000,
          maximumBatchingWindowSeconds: config.batchingWindowSeconds,
        }),
        delivery.listener,
      );
      await mapping.ready;
      const startedAt = Date.now();
      let switchedAt = 0;
      const switcher = sleep(config.durationMs / 2).then(() => {
        switchedAt = Date.now();
        rig.host.updateCode(FUNCTION, v2);
      });
      const put = await producePaced(
        rig.kinesis,
        stream.name,
        config.ratePerSecond,
        config.durationMs,
      );
      await switcher;
      await delivery.waitFor(put, 10 * windowMs + 10_000);
      await mapping.stop();
      const times = delivery.checkpoints.map((c) => c.at);
      let longestGapMs = 0;
      for (let i = 1; i < times.length; i++) {
        longestGapMs = Math.max(longestGapMs, (times[i] as number) - (times[i - 1] as number));
      }
      const last = times[times.length - 1] ?? startedAt;
      const switchEnd = switchedAt + windowMs + 1000;
      const throughSwitch = delivery.checkpoints
        .filter((c) => c.at > switchedAt && c.at <= switchEnd)
        .reduce((sum, c) => sum + c.count, 0);
      const firstNew = delivery.versions.find((v) => v.version !== '1');
      runs.push({
        put,
        lost: put - delivery.sequenceNumbers.size,
        longestGapMs,
        recordsPerSec: delivery.sequenceNumbers.size / ((last - startedAt) / 1000),
        switchRecordsPerSec: throughSwitch / ((switchEnd - switchedAt) / 1000),
        firstNewVersionMs: firstNew === undefined ? Number.NaN : firstNew.at - switchedAt,
        versions: [...new Set(delivery.versions.map((v) => v.version))],
      });
    } finally {
      await rig.stop();
    }
  }
  return { config: (({ progress: _, ...rest }) => rest)(config), runs };
}

export function upgradeOutput(result: UpgradeBenchmarkResult): ScenarioOutput {
  const m = machine();
  const windowMs = result.config.batchingWindowSeconds * 1000;
  const of = (
    key: 'lost' | 'longestGapMs' | 'recordsPerSec' | 'switchRecordsPerSec' | 'firstNewVersionMs',
  ) => result.runs.map((run) => run[key]);
  const lost = Math.max(...of('lost'));
  const gap = spread(of('longestGapMs'));
  const upgraded = result.runs.every((run) => run.versions.includes('2'));
  return {
    summary: { lost, longestGapMs: round(gap.median), batchingWindowMs: windowMs },
    detail: {
      description:
        'records flowing through a mapping into `live` while FunctionHost.updateCode publishes new code',
      machine: { ...m },
      config: { ...result.config },
      put: of('lost').map((_, i) => result.runs[i]?.put ?? 0),
      lost: of('lost'),
      longestGapMs: spreadJson(of('longestGapMs'), 0),
      recordsPerSec: spreadJson(of('recordsPerSec'), 0),
      switchRecordsPerSec: spreadJson(of('switchRecordsPerSec'), 0),
      firstNewVersionMs: spreadJson(of('firstNewVersionMs'), 0),
      versionsSeen: result.runs.map((run) => run.versions.join(',')),
    },
    table: {
      headers: ['measure', 'median (min–max)'],
      rows: [
        ['records put per run', cell(result.runs.map((run) => run.put))],
        ['records lost', cell(of('lost'))],
        ['longest gap between checkpoints, ms', cell(of('longestGapMs'))],
        ['batching window, ms', String(windowMs)],
        ['records/s, whole run', cell(of('recordsPerSec'))],
        [`records/s, switch → +${windowMs + 1000} ms`, cell(of('switchRecordsPerSec'))],
        ['switch → first batch on new code, ms', cell(of('firstNewVersionMs'))],
      ],
    },
    notes: [
      `goal 0 lost: ${lost} ${lost === 0 ? 'met' : 'MISSED'}`,
      `goal longest gap ≤ 2 × batching window (${2 * windowMs} ms): ${gap.median.toFixed(0)} ms (max ${gap.max.toFixed(0)}) ${gap.max <= 2 * windowMs ? 'met' : 'MISSED'}`,
      loadNote(m.loadAverage, m.cores),
      upgraded ? 'every run ended on version 2' : 'NOT every run reached version 2',
    ],
    charts: {
      'upgrade.svg': spreadChart(
        'Upgrade without downtime: longest gap between processed batches',
        `${result.config.ratePerSecond} records/s, code replaced halfway, batching window ${windowMs} ms, ${lost} lost`,
        'ms (lower is better)',
        [
          { label: 'batching window', values: [windowMs], color: '#9e9e9e' },
          { label: 'longest gap', values: of('longestGapMs'), color: '#2e7d32' },
          { label: 'goal: 2 × window', values: [2 * windowMs], color: '#bdbdbd' },
        ],
        m,
      ),
    },
  };
}

export const upgradeScenario: Scenario = {
  name: 'upgrade',
  description: 'replace a function’s code while records flow: gap, throughput, lost records',
  async run(options) {
    const base = options.quick ? UPGRADE_QUICK : UPGRADE_FULL;
    return upgradeOutput(
      await runUpgradeBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        progress: options.progress,
      }),
    );
  },
};
