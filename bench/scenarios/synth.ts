// Synth scale: `cdk synth` of a generated app with 1, 10 and 50 sources, each run in a fresh
// process the way the CDK CLI runs an app (tsx, CDK_OUTDIR set), bundling every function with
// esbuild as a real synth does. One tiny handler entry keeps bundling from dominating.
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { machine } from '../machine';
import type { JsonValue, Scenario, ScenarioOutput } from '../scenario';
import { spread } from '../stats';
import {
  cell,
  checkIntegers,
  removeScratch,
  round,
  scratchDir,
  spreadChart,
  spreadJson,
} from './report';

const ROOT = join(__dirname, '..', '..');
const ENTRY = join(ROOT, 'bench', 'fixtures', 'noop-handler.ts');

export interface SynthConfig {
  /** Numbers of sources to synthesize. @default [1, 10, 50] */
  readonly sources: readonly number[];
  /**
   * Sources per stack: one source is about 20 resources and CloudFormation allows 500 per stack,
   * so 50 sources cannot be one stack. @default 20
   */
  readonly sourcesPerStack: number;
  /** Synths per size. @default 3 */
  readonly runs: number;
  readonly progress?: (message: string) => void;
}

export const SYNTH_FULL: SynthConfig = { sources: [1, 10, 50], sourcesPerStack: 20, runs: 3 };
export const SYNTH_QUICK: SynthConfig = { sources: [1, 2], sourcesPerStack: 20, runs: 1 };

export interface SynthSizeResult {
  readonly seconds: number[];
  /** All stacks' templates together. */
  readonly templateBytes: number;
  readonly resources: number;
  readonly stacks: number;
}

export interface SynthResult {
  readonly config: Omit<SynthConfig, 'progress'>;
  readonly sizes: Record<string, SynthSizeResult>;
}

/**
 * The app: `sources` sources, each with its own stream, in pipelines of at most `perStack`
 * sources, one pipeline per stack. One source is about 20 resources (function, version, alias,
 * mapping, roles, queues, alarms, deployment group…), and CloudFormation allows 500 per stack.
 */
export function appSource(sources: number, perStack: number): string {
  return `import { App, Stack } from 'aws-cdk-lib';
import { MicroBatchPipeline } from 'driverless';

const app = new App();
const total = ${sources};
const perStack = ${perStack};
for (let first = 0, stack = 1; first < total; first += perStack, stack += 1) {
  const scope = new Stack(app, \`SynthBench\${stack}\`);
  new MicroBatchPipeline(scope, 'Pipeline', {
    pipelineName: \`synth-bench-\${stack}\`,
    sources: Object.fromEntries(
      Array.from({ length: Math.min(perStack, total - first) }, (_, i) => [
        \`source\${first + i + 1}\`,
        { stream: { shardCount: 1 }, entry: ${JSON.stringify(ENTRY)} },
      ]),
    ),
  });
}
app.synth();
`;
}

/** Synthesizes the app once; returns seconds and the templates' total size, resources and count. */
export function synthOnce(
  appFile: string,
  outdir: string,
): { seconds: number; templateBytes: number; resources: number; stacks: number } {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
  const started = performance.now();
  const child = spawnSync(tsx, [appFile], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: '1',
    },
  });
  const seconds = (performance.now() - started) / 1000;
  if (child.status !== 0) {
    throw new Error(
      `synth of ${appFile} failed: ${child.stderr.trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  const templates = readdirSync(outdir).filter((file) => file.endsWith('.template.json'));
  if (templates.length === 0) throw new Error(`synth of ${appFile} wrote no template`);
  let templateBytes = 0;
  let resources = 0;
  for (const template of templates) {
    const path = join(outdir, template);
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as {
      Resources?: Record<string, unknown>;
    };
    templateBytes += statSync(path).size;
    resources += Object.keys(parsed.Resources ?? {}).length;
  }
  return { seconds, templateBytes, resources, stacks: templates.length };
}

export function runSynthBenchmark(config: SynthConfig): SynthResult {
  checkIntegers(config, ['runs', 'sourcesPerStack'], 1);
  if (config.sources.length === 0 || config.sources.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new RangeError(`sources must be integers ≥ 1 (given ${config.sources.join(', ')})`);
  }
  const progress = config.progress ?? (() => undefined);
  mkdirSync(scratchDir(), { recursive: true });
  const work = mkdtempSync(join(scratchDir(), 'synth-'));
  try {
    const sizes: Record<string, SynthSizeResult> = {};
    for (const count of config.sources) {
      const appFile = join(work, `app-${count}.ts`);
      writeFileSync(appFile, appSource(count, config.sourcesPerStack));
      const seconds: number[] = [];
      let last = { templateBytes: 0, resources: 0, stacks: 0 };
      for (let run = 0; run < config.runs; run++) {
        progress(`synth: ${count} source(s), run ${run + 1}/${config.runs}`);
        const once = synthOnce(appFile, join(work, `out-${count}`));
        seconds.push(once.seconds);
        last = once;
      }
      sizes[String(count)] = {
        seconds,
        templateBytes: last.templateBytes,
        resources: last.resources,
        stacks: last.stacks,
      };
    }
    const { progress: _, ...rest } = config;
    return { config: rest, sizes };
  } finally {
    removeScratch();
  }
}

export function synthOutput(result: SynthResult): ScenarioOutput {
  const m = machine();
  const entries = Object.entries(result.sizes);
  const [firstName, first] = entries[0] as [string, SynthSizeResult];
  const summary: Record<string, JsonValue> = {};
  const detail: Record<string, JsonValue> = {};
  for (const [count, r] of entries) {
    summary[count] = {
      seconds: round(spread(r.seconds).median, 2),
      templateBytes: r.templateBytes,
    };
    detail[count] = {
      seconds: spreadJson(r.seconds, 3),
      templateBytes: r.templateBytes,
      resources: r.resources,
      stacks: r.stacks,
    };
  }
  const [lastName, last] = entries[entries.length - 1] as [string, SynthSizeResult];
  // Resources each added source brings (the pipeline's own, such as the dashboard, are fixed).
  const perSourceResources =
    entries.length > 1 && lastName !== firstName
      ? (last.resources - first.resources) / (Number(lastName) - Number(firstName))
      : first.resources / Number(firstName);
  const perSource = (r: SynthSizeResult, count: string) =>
    (spread(r.seconds).median - spread(first.seconds).median) / (Number(count) - Number(firstName));
  return {
    summary,
    detail: {
      description:
        'cdk synth (tsx app, CDK_OUTDIR, esbuild bundling of every function) of N sources, one pipeline per stack of at most sourcesPerStack sources',
      machine: { ...m },
      config: { ...result.config },
      sizes: detail,
    },
    table: {
      headers: [
        'sources',
        'stacks',
        'synth s median (min–max)',
        'template KB',
        'resources',
        'KB per source',
      ],
      rows: entries.map(([count, r]) => [
        count,
        String(r.stacks),
        cell(r.seconds, 2),
        (r.templateBytes / 1024).toFixed(1),
        String(r.resources),
        (r.templateBytes / 1024 / Number(count)).toFixed(1),
      ]),
    },
    notes: [
      ...entries
        .slice(1)
        .map(
          ([count, r]) =>
            `${firstName} → ${count} sources: ×${(spread(r.seconds).median / spread(first.seconds).median).toFixed(2)} time (+${perSource(r, count).toFixed(3)} s per added source), ×${(r.templateBytes / first.templateBytes).toFixed(1)} template`,
        ),
      `${perSourceResources.toFixed(0)} resources per added source: CloudFormation's 500 per stack holds about ${Math.floor(500 / perSourceResources)} sources, so the app puts at most ${result.config.sourcesPerStack} in one stack`,
    ],
    charts: {
      'synth.svg': spreadChart(
        'Synth scale: cdk synth time',
        'one MicroBatchPipeline with N sources (fresh process, esbuild bundling)',
        'seconds (lower is better)',
        entries.map(([count, r]) => ({
          label: `${count} source${count === '1' ? '' : 's'} (${r.stacks} stack${r.stacks === 1 ? '' : 's'})`,
          values: r.seconds,
          color: '#2e7d32',
          note: `${(r.templateBytes / 1024).toFixed(0)} KB template`,
        })),
        m,
      ),
    },
  };
}

export const synthScenario: Scenario = {
  name: 'synth',
  description: 'cdk synth time and template size for 1, 10 and 50 sources',
  async run(options) {
    const base = options.quick ? SYNTH_QUICK : SYNTH_FULL;
    return synthOutput(
      runSynthBenchmark({
        ...base,
        ...(options.runs === undefined ? {} : { runs: options.runs }),
        progress: options.progress,
      }),
    );
  },
};
