/**
 * The folder tree is the architecture: these rules keep it so. The runtime is bundled into Lambda
 * on its own, so `functions/` reaches nothing outside it; the constructs do not depend on tools;
 * the example app uses Driverless as a user would, by package name; tools (and `testing/`, published
 * as `driverless/testing`) reach the emulator only through its public module. See
 * docs/architecture.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, sep } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const SOURCE_FOLDERS = [
  'bin',
  'lib',
  'functions',
  'cli',
  'emulator',
  'testing',
  'example',
  'bench',
];
const SOURCE_FILE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const SKIPPED = new Set(['node_modules', 'cdk.out', '.driverless', 'results']);

/** Where a repo file may not import from, and why. */
interface Rule {
  readonly applies: (file: string) => boolean;
  readonly forbids: (target: string, file: string) => boolean;
  readonly why: string;
}

const isExample = (path: string) => /^(example|functions\/example)\//.test(path);
const under = (path: string, ...folders: string[]) =>
  folders.some((folder) => path === folder || path.startsWith(`${folder}/`));

const RULES: readonly Rule[] = [
  {
    applies: (file) => under(file, 'functions') && !isExample(file),
    forbids: (target) => under(target, 'lib', 'cli', 'emulator', 'example', 'bench', 'test', 'bin'),
    why: 'functions/ is bundled into Lambda on its own: it imports nothing outside functions/',
  },
  {
    applies: (file) => under(file, 'lib'),
    forbids: (target) => under(target, 'cli', 'emulator', 'example', 'bench', 'test', 'bin'),
    why: 'the constructs do not depend on tools, the example or tests',
  },
  {
    applies: isExample,
    forbids: (target, file) =>
      !isExample(target) &&
      // The dev-loop script runs the example on the emulator: it is the one tool in example/.
      !(
        file === 'example/start.ts' &&
        (target === 'emulator/index.ts' || under(target, 'cli/dev'))
      ),
    why: "the example imports Driverless only by package name ('driverless', 'driverless/runtime')",
  },
  {
    applies: (file) => under(file, 'testing'),
    forbids: (target) => under(target, 'lib', 'cli', 'example', 'bench', 'test', 'bin'),
    why: "testing/ is published as 'driverless/testing': it uses the emulator and the runtime's contract, not tools or tests",
  },
  {
    applies: (file) => !under(file, 'emulator', 'test'),
    forbids: (target) => under(target, 'emulator') && target !== 'emulator/index.ts',
    why: "tools reach the emulator only through its public module, 'emulator/index'",
  },
];

/** The module specifiers a source text imports, re-exports or requires. */
function importedSpecifiers(source: string): string[] {
  const pattern =
    /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g;
  return [...source.matchAll(pattern)].map((match) => match[1] ?? match[2] ?? match[3] ?? '');
}

/** The repo file a relative specifier names (with `.ts` when it has no extension), else undefined. */
function resolveTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const path = posix.normalize(posix.join(posix.dirname(file), specifier));
  return SOURCE_FILE.test(path) || path.endsWith('.json') ? path : `${path}.ts`;
}

/** Every rule a file's imports break, as `file → specifier: why`. */
function boundaryViolations(file: string, specifiers: readonly string[]): string[] {
  const found: string[] = [];
  for (const specifier of specifiers) {
    const target = resolveTarget(file, specifier);
    if (target === undefined) continue;
    for (const rule of RULES) {
      if (rule.applies(file) && rule.forbids(target, file)) {
        found.push(`${file} → ${specifier}: ${rule.why}`);
      }
    }
  }
  return found;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return SOURCE_FILE.test(entry.name) ? [path.split(sep).join('/')] : [];
  });
}

describe('import boundaries', () => {
  it('no source file imports across a boundary', () => {
    // Given
    const files = SOURCE_FOLDERS.flatMap(sourceFiles);

    // When
    const violations = files.flatMap((file) =>
      boundaryViolations(file, importedSpecifiers(readFileSync(join(ROOT, file), 'utf8'))),
    );

    // Then
    expect(files.length).toBeGreaterThan(100);
    expect(violations).toStrictEqual([]);
  });

  it.each([
    ['functions/runtime/x.ts', '../../lib/defaults', 'functions/'],
    ['functions/kinesis/x.ts', '../../emulator/index', 'functions/'],
    ['lib/x.ts', '../emulator/index', 'constructs'],
    ['lib/x.ts', '../cli/run/run-batch', 'constructs'],
    ['example/retail-stack.ts', '../lib/index', 'package name'],
    ['functions/example/orders.ts', '../runtime/index', 'package name'],
    ['example/producer.ts', '../emulator/index', 'package name'],
    ['cli/run/run-batch.ts', '../../emulator/esm/processBatch', 'public module'],
    ['bench/scenarios/x.ts', '../../emulator/clients', 'public module'],
    ['example/start.ts', '../emulator/embedded-stack', 'public module'],
    ['testing/start-local.ts', '../emulator/embedded-stack', 'public module'],
    ['testing/invoke.ts', '../cli/run/dead-letter-file', "'driverless/testing'"],
    ['testing/kpl.ts', '../test/fixtures/kpl', "'driverless/testing'"],
  ])('fails if %s imports %s', (file, specifier, reason) => {
    // When
    const violations = boundaryViolations(file, [specifier]);

    // Then
    expect(violations).toEqual(expect.arrayContaining([expect.stringContaining(reason)]));
  });

  it.each([
    ['example/start.ts', '../emulator/index'],
    ['example/start.ts', '../cli/dev/live-view'],
    ['functions/example/orders.ts', './retail/events'],
    ['cli/run/run-batch.ts', '../../functions/kinesis/index'],
    ['emulator/esm/processBatch.ts', '../../functions/kinesis/index'],
    ['lib/function-bundle.ts', '../functions/runtime/environment'],
    ['bench/scenarios/x.ts', '../../emulator/index'],
    ['testing/start-local.ts', '../emulator/index'],
    ['testing/invoke.ts', '../functions/kinesis/index'],
  ])('allows %s to import %s', (file, specifier) => {
    // When
    const violations = boundaryViolations(file, [specifier]);

    // Then
    expect(violations).toStrictEqual([]);
  });

  it('finds imports, re-exports, dynamic imports and requires, across lines', () => {
    // Given
    const source = [
      "import {\n  a,\n  b,\n} from './one';",
      "export type { C } from '../two';",
      "import './three';",
      "const four = await import('./four');",
      "const five = require('five');",
    ].join('\n');

    // When
    const specifiers = importedSpecifiers(source);

    // Then
    expect(specifiers).toStrictEqual(['./one', '../two', './three', './four', 'five']);
  });
});
