import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * KPL de-aggregation (`aws-kinesis-agg` with protobufjs) is about 70 KB minified, close to half of
 * a function bundle, yet only records from an aggregating producer need it. The function bundle
 * leaves it out, and the asset carries it bundled on its own at the path Node.js resolves the
 * runtime's `require` to; the runtime loads it on the first aggregated record, so cold starts
 * parse only what every batch needs.
 */
const KPL_PACKAGE = 'aws-kinesis-agg';

/** The module the runtime requires on the first aggregated record (`functions/runtime/decode-event.ts`). */
export const KPL_MODULE = `${KPL_PACKAGE}/lib/kpl-deagg`;

/**
 * The protobufjs the KPL module is bundled with: Driverless's own dependency. `aws-kinesis-agg`
 * pins protobufjs 7.2.4, inside the range of a critical advisory (prototype pollution,
 * CVE-2023-36665, fixed in 7.2.5); an alias makes every bundle, in any app, use the fixed copy.
 */
export function kplProtobufDir(): string {
  return dirname(require.resolve('protobufjs/package.json'));
}

/** Where the KPL module sits in a function asset, relative to the bundle's `index.js`. */
export const KPL_MODULE_FILE = join('node_modules', `${KPL_MODULE}.js`);

/** Modules the function bundle does not contain. */
const BUNDLE_EXTERNALS: readonly string[] = [
  // The Node.js runtime ships AWS SDK v3.
  '@aws-sdk/*',
  KPL_PACKAGE,
];

/**
 * Powertools Tracer and the X-Ray SDK under it, which the runtime requires only when the function
 * is traced: an untraced function's bundle leaves them out.
 */
const TRACER_PACKAGE = '@aws-lambda-powertools/tracer';

/** Modules a function's bundle leaves out: the tracer too, unless the function is traced. */
export function bundleExternals(tracing: boolean): string[] {
  return tracing ? [...BUNDLE_EXTERNALS] : [...BUNDLE_EXTERNALS, TRACER_PACKAGE];
}

/** esbuild options shared by the function bundle and the KPL module beside it. */
export const BUNDLE_TARGET = { platform: 'node', target: 'node24', format: 'cjs' } as const;

const quote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/**
 * The shell command (run by NodejsFunction's local bundling after the function bundle is built)
 * that writes the KPL module into `outputDir` with the project's own esbuild.
 */
export function bundleKplModuleCommand(outputDir: string): string {
  const esbuild = join(dirname(require.resolve('esbuild/package.json')), 'bin', 'esbuild');
  return [
    esbuild,
    require.resolve(KPL_MODULE),
    '--bundle',
    '--minify',
    '--log-level=warning',
    `--alias:protobufjs=${kplProtobufDir()}`,
    `--platform=${BUNDLE_TARGET.platform}`,
    `--target=${BUNDLE_TARGET.target}`,
    `--format=${BUNDLE_TARGET.format}`,
    `--outfile=${join(outputDir, KPL_MODULE_FILE)}`,
  ]
    .map(quote)
    .join(' ');
}

/**
 * The template metadata key (on each function resource) under which the construct records how its
 * bundle is built, so that `driverless dev` can rebuild a changed handler with esbuild alone,
 * without running the app's synth.
 */
export const BUNDLE_METADATA_KEY = 'driverless:bundle';

/**
 * How a function's bundle is built: the esbuild options NodejsFunction is given, in JSON, enough to
 * rebuild the same `index.js` without the CDK. Written under {@link BUNDLE_METADATA_KEY}.
 */
export interface BundleRecipe {
  /** The handler entry, relative to the directory the app is synthesized in (`/` separated). */
  readonly entry: string;
  /** Modules left out of the bundle. */
  readonly externals: readonly string[];
  readonly platform: typeof BUNDLE_TARGET.platform;
  readonly target: typeof BUNDLE_TARGET.target;
  readonly format: typeof BUNDLE_TARGET.format;
  readonly minify: boolean;
  readonly sourcemap: boolean;
  /**
   * Files of the asset, beside the bundle, that are built from dependencies alone (the KPL
   * module): a rebuild of the handler can take them from the asset that runs.
   */
  readonly fromDependencies: readonly string[];
}

/**
 * The recipe of a function bundled from `entry` (absolute, or relative to `projectDir`) with the
 * options {@link bundleExternals} and {@link BUNDLE_TARGET} give it.
 */
export function bundleRecipe(entry: string, tracing: boolean, projectDir: string): BundleRecipe {
  return {
    entry: relative(projectDir, resolve(projectDir, entry)).split(sep).join('/'),
    externals: bundleExternals(tracing),
    ...BUNDLE_TARGET,
    minify: true,
    sourcemap: true,
    fromDependencies: [KPL_MODULE_FILE.split(sep).join('/')],
  };
}

/**
 * The recipe in a function resource's {@link BUNDLE_METADATA_KEY} metadata, or undefined when
 * there is none or it is not one this version writes (a function from another construct, or an
 * app built with another version of Driverless): such a function is rebuilt only by a synth.
 */
export function readBundleRecipe(value: unknown): BundleRecipe | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const recipe = value as Record<keyof BundleRecipe, unknown>;
  const strings = (list: unknown) =>
    Array.isArray(list) && list.every((item) => typeof item === 'string');
  const valid =
    typeof recipe.entry === 'string' &&
    strings(recipe.externals) &&
    strings(recipe.fromDependencies) &&
    recipe.platform === BUNDLE_TARGET.platform &&
    recipe.target === BUNDLE_TARGET.target &&
    recipe.format === BUNDLE_TARGET.format &&
    typeof recipe.minify === 'boolean' &&
    typeof recipe.sourcemap === 'boolean';
  return valid ? (value as BundleRecipe) : undefined;
}
