import { dirname, join } from 'node:path';

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
