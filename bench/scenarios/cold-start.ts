// Cold start: each example function, each `driverless new` template and the handler of a
// `driverless init` project, bundled as the construct bundles it (esbuild: node24, CJS,
// minified, AWS SDK external, KPL de-aggregation in a module beside the bundle), its size, what
// makes up that size, and the time a fresh Node.js process takes to `require` it (module init,
// what Lambda reports as most of Init Duration).
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { projectFiles, STARTER } from '../../cli/init/project-files';
import { packageManifest } from '../../cli/package-root';
import { BUNDLE_TARGET, bundleExternals, KPL_MODULE } from '../../lib/function-bundle';
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

export interface ColdStartConfig {
  /** Function name → entry file, relative to the repository root. */
  readonly functions: Readonly<Record<string, string>>;
  /**
   * Also measure the handler a `driverless init` project starts with, as `init:<handler>`.
   * @default true
   */
  readonly initProject?: boolean;
  /** Fresh processes per function; the median init time is reported. @default 7 */
  readonly runs: number;
  /** Inputs listed per function, largest first. @default 10 */
  readonly topInputs: number;
  readonly progress?: (message: string) => void;
}

/** The handlers `driverless new` writes, by template file: users deploy them as generated. */
export const TEMPLATE_FUNCTIONS: Readonly<Record<string, string>> = {
  'template:json-to-dynamodb': 'functions/templates/json-to-dynamodb.ts',
  'template:multi-job': 'functions/templates/multi-job.ts',
  'template:window': 'functions/templates/window.ts',
};

export const COLD_START_FULL: ColdStartConfig = {
  functions: {
    'product-views': 'functions/example/product-views.ts',
    orders: 'functions/example/orders.ts',
    ...TEMPLATE_FUNCTIONS,
  },
  initProject: true,
  runs: 7,
  topInputs: 10,
};
export const COLD_START_QUICK: ColdStartConfig = { ...COLD_START_FULL, runs: 1 };

export interface ColdStartFunctionResult {
  readonly bundleBytes: number;
  /** ms to `require` the bundle in a fresh process, per run. */
  readonly initMs: number[];
  /** ms of each run spent in the bundle's `require('@aws-sdk/…')` calls. */
  readonly sdkMs: number[];
  /** The largest inputs by bytes they contribute to the minified bundle. */
  readonly topInputs: { readonly path: string; readonly bytes: number }[];
  /** Bytes by package (`node_modules/<name>`), or `(project)` for this repository's own files. */
  readonly packages: { readonly name: string; readonly bytes: number }[];
}

/** The KPL de-aggregation module shipped beside every bundle, loaded on the first aggregated record. */
export interface KplModuleResult {
  readonly bytes: number;
  /** ms to `require` it in a fresh process, per run: paid once, on the first aggregated record. */
  readonly loadMs: number[];
}

export interface ColdStartResult {
  readonly config: Omit<ColdStartConfig, 'progress'>;
  readonly functions: Record<string, ColdStartFunctionResult>;
  readonly kplModule: KplModuleResult;
}

/** The package an esbuild input path belongs to. */
export function packageOf(input: string): string {
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return match ? (match[1] as string) : '(project)';
}

/**
 * Writes the handler of a `driverless init` project into `dir` (inside this repository, so its
 * `driverless/runtime` import resolves to the sources) and returns its path.
 */
export function writeInitProjectHandler(dir: string): string {
  const file = join(dir, STARTER.handler);
  mkdirSync(dirname(file), { recursive: true });
  const files = projectFiles({ name: 'cold-start', manifest: packageManifest() });
  writeFileSync(file, files[STARTER.handler] as string);
  return file;
}

/** Bundles `entry` (absolute, or relative to the repository root) as StreamFunction does. */
export async function bundle(
  entry: string,
  outfile: string,
): Promise<{ bytes: number; inputs: Record<string, number> }> {
  const result = await build({
    entryPoints: [resolve(ROOT, entry)],
    outfile,
    bundle: true,
    ...BUNDLE_TARGET,
    minify: true,
    // As the constructs bundle a function without tracing, the default.
    external: bundleExternals(false),
    metafile: true,
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  if (output === undefined) throw new Error(`esbuild wrote no output for ${entry}`);
  const inputs = Object.fromEntries(
    Object.entries(output.inputs).map(([path, info]) => [path, info.bytesInOutput]),
  );
  return { bytes: statSync(outfile).size, inputs };
}

/** What one fresh process measured: the whole `require`, and the part spent loading the AWS SDK. */
export interface InitTiming {
  readonly initMs: number;
  /** Time inside the bundle's own `require('@aws-sdk/…')` calls (external: loaded at init, as on Lambda). */
  readonly sdkMs: number;
}

/**
 * Times `require` of the bundle in a fresh Node.js process, and the share of it spent in the
 * bundle's top-level `require('@aws-sdk/…')` calls (the SDK is external, so Lambda loads it
 * from the runtime at init too).
 */
export function measureInit(file: string): InitTiming {
  const script = `
const Module = require('node:module');
const original = Module.prototype.require;
let sdkMs = 0;
Module.prototype.require = function (id) {
  if (this.filename !== ${JSON.stringify(file)} || !String(id).startsWith('@aws-sdk/')) return original.apply(this, arguments);
  const started = performance.now();
  try { return original.apply(this, arguments); } finally { sdkMs += performance.now() - started; }
};
const started = performance.now();
require(${JSON.stringify(file)});
process.stdout.write(JSON.stringify({ initMs: performance.now() - started, sdkMs }));`;
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '',
      // What Lambda and the example stack set; the bundles read them at init.
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_FUNCTION_NAME: 'cold-start',
      RECOMMENDATIONS_TABLE: 'recommendations',
      POPULARITY_TABLE: 'popularity',
      // What the templates read.
      TABLE_NAME: 'table',
      QUEUE_URL: 'http://127.0.0.1:1/000000000000/queue',
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: 'http://127.0.0.1:1/000000000000/dead-letters',
      // @aws-sdk/* is external: Lambda resolves it on NODE_PATH, locally from node_modules.
      NODE_PATH: join(ROOT, 'node_modules'),
    },
  });
  if (child.status !== 0) {
    throw new Error(
      `requiring ${file} failed: ${child.stderr.split('\n').find((line) => /^\w*Error\b/.test(line)) ?? child.stderr.trim().slice(0, 200)}`,
    );
  }
  return JSON.parse(child.stdout) as InitTiming;
}

export async function runColdStartBenchmark(config: ColdStartConfig): Promise<ColdStartResult> {
  checkIntegers(config, ['runs', 'topInputs'], 1);
  const progress = config.progress ?? (() => undefined);
  const out = scratchDir('cold-start');
  mkdirSync(out, { recursive: true });
  const functions: Record<string, ColdStartFunctionResult> = {};
  const entries = Object.entries(config.functions);
  if (config.initProject ?? true) {
    entries.push([`init:${STARTER.stream}`, writeInitProjectHandler(join(out, 'init-project'))]);
  }
  for (const [name, entry] of entries) {
    progress(`coldStart: bundling ${entry}`);
    const file = join(out, `${name}.js`);
    const { bytes, inputs } = await bundle(entry, file);
    const byPackage = new Map<string, number>();
    for (const [path, size] of Object.entries(inputs)) {
      byPackage.set(packageOf(path), (byPackage.get(packageOf(path)) ?? 0) + size);
    }
    const initMs: number[] = [];
    const sdkMs: number[] = [];
    for (let run = 0; run < config.runs; run++) {
      const timing = measureInit(file);
      initMs.push(timing.initMs);
      sdkMs.push(timing.sdkMs);
    }
    functions[name] = {
      bundleBytes: bytes,
      initMs,
      sdkMs,
      topInputs: Object.entries(inputs)
        .sort((a, b) => b[1] - a[1])
        .slice(0, config.topInputs)
        .map(([path, size]) => ({ path, bytes: size })),
      packages: [...byPackage]
        .sort((a, b) => b[1] - a[1])
        .map(([packageName, size]) => ({ name: packageName, bytes: size })),
    };
  }
  progress(`coldStart: bundling ${KPL_MODULE}`);
  const kplFile = join(out, 'kpl-deagg.js');
  await build({
    entryPoints: [require.resolve(KPL_MODULE)],
    outfile: kplFile,
    bundle: true,
    ...BUNDLE_TARGET,
    minify: true,
    logLevel: 'silent',
  });
  const loadMs = Array.from({ length: config.runs }, () => measureInit(kplFile).initMs);
  const kplModule = { bytes: statSync(kplFile).size, loadMs };
  removeScratch();
  const { progress: _, ...rest } = config;
  return { config: rest, functions, kplModule };
}

const KB = 1024;

export function coldStartOutput(result: ColdStartResult): ScenarioOutput {
  const m = machine();
  const entries = Object.entries(result.functions);
  const summary: Record<string, JsonValue> = {};
  const detail: Record<string, JsonValue> = {};
  const notes: string[] = [];
  for (const [name, r] of entries) {
    const init = spread(r.initMs).median;
    summary[name] = { bundleBytes: r.bundleBytes, initMs: round(init) };
    detail[name] = {
      bundleBytes: r.bundleBytes,
      initMs: spreadJson(r.initMs),
      sdkMs: spreadJson(r.sdkMs),
      topInputs: r.topInputs.map((input) => ({ ...input })),
      packages: r.packages.map((p) => ({ ...p })),
    };
    notes.push(
      `${name}: goal ≤ 100 KB ${r.bundleBytes <= 100 * KB ? 'met' : 'MISSED'} (${(r.bundleBytes / KB).toFixed(1)} KB), ≤ 50 ms ${init <= 50 ? 'met' : 'MISSED'} (${init.toFixed(1)} ms)`,
      `  largest packages: ${r.packages
        .slice(0, 5)
        .map((p) => `${p.name} ${(p.bytes / KB).toFixed(1)} KB`)
        .join(', ')}`,
      `  largest inputs: ${r.topInputs
        .map(
          (input) =>
            `${input.path.replace(/^.*node_modules\//, '')} ${(input.bytes / KB).toFixed(1)} KB`,
        )
        .join(', ')}`,
    );
  }
  const { kplModule } = result;
  notes.push(
    `KPL de-aggregation beside each bundle: ${(kplModule.bytes / KB).toFixed(1)} KB, loaded in ${spread(kplModule.loadMs).median.toFixed(1)} ms on the first aggregated record`,
  );
  return {
    summary,
    detail: {
      description:
        'example functions, templates and the init project handler bundled as the construct does (esbuild node24 cjs minify, @aws-sdk/* external, KPL de-aggregation in a module beside the bundle): size and require time in a fresh process',
      machine: { ...m },
      config: { functions: { ...result.config.functions }, runs: result.config.runs },
      functions: detail,
      kplModule: { bytes: kplModule.bytes, loadMs: spreadJson(kplModule.loadMs) },
    },
    table: {
      headers: [
        'function',
        'bundle KB',
        'init ms median (min–max)',
        'of which @aws-sdk ms',
        'without @aws-sdk ms',
      ],
      rows: entries.map(([name, r]) => [
        name,
        (r.bundleBytes / KB).toFixed(1),
        cell(r.initMs, 1),
        cell(r.sdkMs, 1),
        cell(
          r.initMs.map((ms, i) => ms - (r.sdkMs[i] as number)),
          1,
        ),
      ]),
    },
    notes,
    charts: {
      'cold-start.svg': spreadChart(
        'Cold start: module init time',
        'require() of the minified bundle in a fresh Node.js process (goal ≤ 50 ms)',
        'ms (lower is better)',
        entries.map(([name, r]) => ({
          label: name,
          values: r.initMs,
          color: '#2e7d32',
          note: `${(r.bundleBytes / KB).toFixed(0)} KB bundle`,
        })),
        m,
      ),
    },
  };
}

export const coldStartScenario: Scenario = {
  name: 'coldStart',
  description:
    'bundle size and module init time of each example function, template and the init project handler',
  async run(options) {
    const base = options.quick ? COLD_START_QUICK : COLD_START_FULL;
    const result = await runColdStartBenchmark({
      ...base,
      ...(options.runs === undefined ? {} : { runs: options.runs }),
      progress: options.progress,
    });
    return coldStartOutput(result);
  },
};
