import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fail } from '../cli-error';

const PIPELINE = /\bnew\s+MicroBatchPipeline\s*\(/;
const SOURCE_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'];
/** Folders that never hold the app's stacks. */
const SKIPPED = new Set(['node_modules', 'cdk.out', 'dist', 'test', 'tests', '__tests__']);

/** Source text without comments, so a `new MicroBatchPipeline(` in a doc example does not count. */
function code(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

function declaresPipeline(file: string): boolean {
  return PIPELINE.test(code(readFileSync(file, 'utf8')));
}

/** The TypeScript file a relative import names (`./x`, `./x.js` under NodeNext, `./x/index`). */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const stem = /\.[cm]?js$/.test(base) ? base.slice(0, -extname(base).length) : base;
  const candidates = [
    ...(SOURCE_EXTENSIONS.includes(extname(base)) ? [base] : []),
    ...SOURCE_EXTENSIONS.map((extension) => `${stem}${extension}`),
    ...SOURCE_EXTENSIONS.map((extension) => join(base, `index${extension}`)),
  ];
  return candidates.find((file) => existsSync(file) && statSync(file).isFile());
}

/** The app's entry files named by cdk.json's `app` command (`npx tsx bin/app.ts` → bin/app.ts). */
function appEntries(root: string): string[] {
  const cdkJson = join(root, 'cdk.json');
  if (!existsSync(cdkJson)) return [];
  let app: unknown;
  try {
    app = (JSON.parse(readFileSync(cdkJson, 'utf8')) as { app?: unknown }).app;
  } catch {
    fail(`cdk.json is not valid JSON: fix it or pass --stack <file>`);
  }
  if (typeof app !== 'string') return [];
  return app
    .split(/\s+/)
    .filter((word) => SOURCE_EXTENSIONS.includes(extname(word)))
    .map((word) => join(root, word))
    .filter((file) => existsSync(file));
}

/** Every file the entries import, directly or not, through relative imports. */
function importedFiles(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = code(readFileSync(file, 'utf8'));
    for (const match of source.matchAll(
      /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g,
    )) {
      const imported = resolveImport(file, match[1] as string);
      if (imported) queue.push(imported);
    }
  }
  return [...seen];
}

/** TypeScript files under `dir`, skipping tests, builds, dependencies and hidden folders. */
function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name.startsWith('.') || SKIPPED.has(entry.name) ? [] : sourceFiles(path);
    }
    const isSource =
      SOURCE_EXTENSIONS.includes(extname(entry.name)) &&
      !/\.(d|test|spec)\.[cm]?tsx?$/.test(entry.name);
    return isSource ? [path] : [];
  });
}

/**
 * The file holding the project's `new MicroBatchPipeline(`: `stackOption` when given, else the one
 * file of the CDK app (cdk.json's `app` entry and what it imports) or, without a cdk.json, of
 * lib/ that declares one. Fails, naming what it found, unless there is exactly one.
 */
export function findPipelineStack(root: string, stackOption?: string): string {
  if (stackOption !== undefined) {
    const stack = resolve(root, stackOption);
    if (!existsSync(stack)) fail(`--stack ${stackOption}: no such file`);
    if (!declaresPipeline(stack)) fail(`--stack ${stackOption} has no new MicroBatchPipeline(...)`);
    return stack;
  }
  const entries = appEntries(root);
  const searched = entries.length > 0 ? 'the CDK app in cdk.json' : 'lib/';
  const files = entries.length > 0 ? importedFiles(entries) : sourceFiles(join(root, 'lib'));
  const stacks = files.filter(declaresPipeline);
  if (stacks.length === 0) {
    fail(`no new MicroBatchPipeline(...) found in ${searched}: pass --stack <file>`);
  }
  if (stacks.length > 1) {
    const names = stacks.map((file) => relative(root, file)).join(', ');
    fail(`several files declare a MicroBatchPipeline (${names}): pass --stack <file>`);
  }
  return stacks[0] as string;
}
