import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fail } from '../cli-error';
import { packageRoot } from '../package-root';
import { type FileToWrite, writeFilesOrNone } from '../write-files';
import { findPipelineStack } from './find-stack';
import { type SourceToWire, sourceEntryLines, wireSource } from './wire-source';

/** The templates `driverless new` offers, by their option name. */
export const TEMPLATES = {
  json: { file: 'json-to-dynamodb', env: ['TABLE_NAME'] },
  'multi-job': { file: 'multi-job', env: ['TABLE_NAME', 'QUEUE_URL'] },
  window: { file: 'window', env: ['TABLE_NAME'] },
  aggregate: { file: 'aggregate', env: ['TABLE_NAME'] },
} as const;
export type TemplateName = keyof typeof TEMPLATES;

export interface NewOptions {
  readonly template: string;
  /** Add the source to the project's MicroBatchPipeline (found from cdk.json's app, or `stack`). */
  readonly wire?: boolean;
  /** With `wire`: the file holding the MicroBatchPipeline, relative to `dir`. */
  readonly stack?: string;
  readonly force?: boolean;
  /** Project root: where `functions/` and `test/unit/` are. @default the current directory */
  readonly dir?: string;
}

/** What `driverless new` did, for its output. */
export interface Scaffolded {
  readonly handler: string;
  readonly test: string;
  readonly sourceEntry: string;
  readonly wired?: string;
  readonly remaining: readonly string[];
  /** Commands that try the new function on this machine: its test, then a run over records. */
  readonly tryIt: readonly string[];
}

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/**
 * The templates shipped in the `driverless` package, found from this module's location (not
 * from the bin symlink npx starts): `functions/templates/` of the package root, both when the CLI
 * runs from sources and when it runs compiled from dist/.
 */
export function templatesDir(root: string = packageRoot()): string {
  const dir = join(root, 'functions', 'templates');
  if (!existsSync(join(dir, `${TEMPLATES.json.file}.ts`))) {
    fail(`the driverless package at ${root} has no handler templates in functions/templates`);
  }
  return dir;
}

/** The `sources` entry to print when not wiring: its entry relative to the project root. */
export function sourceEntry(name: string, template: TemplateName): string {
  return sourceEntryLines(sourceToWire(name, template, ''), `'functions/${name}.ts'`).join('\n');
}

function sourceToWire(name: string, template: TemplateName, handlerFile: string): SourceToWire {
  return {
    key: camelCase(name),
    handlerFile,
    environment: TEMPLATES[template].env,
    window: template === 'window',
    state: template === 'aggregate',
  };
}

/** The handler's source: the template with its first line naming the new function. */
export function handlerSource(template: string, name: string, templateName: TemplateName): string {
  return template.replace(
    /^\/\*\*\n \* Template: /,
    `/**\n * ${name} (from the ${templateName} template): `,
  );
}

/**
 * The test's source: the template's test (beside the template, importing `./<file>`) importing
 * the new handler from where the test is written, and describing it by its name.
 */
export function testSource(
  template: string,
  name: string,
  templateFile: string,
  fromTestToHandler: string,
): string {
  return template
    .replaceAll(`'./${templateFile}'`, `'${fromTestToHandler}'`)
    .replace(`describe('${templateFile} template'`, `describe('${name}'`);
}

/** A relative import specifier from `fromFile` to the module `toFile` (extension dropped). */
function importPath(fromFile: string, toFile: string): string {
  const path = relative(dirname(fromFile), toFile.replace(/\.ts$/, '')).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

/**
 * Formats generated code with the project's biome (found in node_modules/.bin at or above the
 * root) so it passes the project's lint as written; unchanged when biome is not there.
 */
export function formatted(root: string, path: string, source: string): string {
  let dir = root;
  while (!existsSync(join(dir, 'node_modules', '.bin', 'biome')) && dirname(dir) !== dir)
    dir = dirname(dir);
  const biome = join(dir, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return source;
  const run = (args: string[]) =>
    execFileSync(biome, [...args, `--stdin-file-path=${path}`], {
      cwd: dir,
      input: source,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  try {
    // `check --write` also sorts imports (an added `Duration`); it fails on any unfixable finding.
    return run(['check', '--write']);
  } catch {
    try {
      return run(['format']);
    } catch {
      return source;
    }
  }
}

function isEsmProject(root: string): boolean {
  const manifest = join(root, 'package.json');
  if (!existsSync(manifest)) return false;
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: string }).type === 'module';
  } catch {
    return false;
  }
}

/**
 * `driverless new`: writes the handler and its test, and wires or prints its source entry.
 * Every check (name, template, existing files, the stack to wire) runs before anything is
 * written, and the files are written all or none, so a failure leaves the project as it was.
 */
export async function scaffold(name: string, options: NewOptions): Promise<Scaffolded> {
  if (!KEBAB.test(name)) fail(`<name> must be kebab-case like click-counts (given ${name})`);
  if (!Object.hasOwn(TEMPLATES, options.template)) {
    fail(
      `--template must be one of ${Object.keys(TEMPLATES).join(', ')} (given ${options.template})`,
    );
  }
  if (options.stack !== undefined && !options.wire) fail('--stack needs --wire');
  const templateName = options.template as TemplateName;
  const { file, env } = TEMPLATES[templateName];
  const root = resolve(options.dir ?? '.');
  const templates = templatesDir();
  const handlerPath = join(root, 'functions', `${name}.ts`);
  const testPath = join(root, 'test', 'unit', `${name}.test.ts`);
  for (const path of [handlerPath, testPath]) {
    if (existsSync(path) && !options.force)
      fail(`${relative(root, path)} exists: pass --force to overwrite it`);
  }
  const testTemplate = join(templates, `${file}.test.ts`);
  if (!existsSync(testTemplate))
    fail(`the ${templateName} template's test ${testTemplate} is missing`);

  const source = sourceToWire(name, templateName, handlerPath);
  const files: FileToWrite[] = [];
  let wired: string | undefined;
  let entry = sourceEntry(name, templateName);
  if (options.wire) {
    const stackPath = findPipelineStack(root, options.stack);
    const stack = {
      path: stackPath,
      text: await readFile(stackPath, 'utf8'),
      esm: isEsmProject(root),
      root,
    };
    const updated = wireSource(stack, source);
    files.push({
      path: stackPath,
      content: formatted(root, relative(root, stackPath), updated.text),
    });
    entry = updated.entry;
    wired = stackPath;
  }
  const handler = handlerSource(
    await readFile(join(templates, `${file}.ts`), 'utf8'),
    name,
    templateName,
  );
  const test = testSource(
    await readFile(testTemplate, 'utf8'),
    name,
    file,
    importPath(testPath, handlerPath),
  );
  files.unshift(
    { path: handlerPath, content: formatted(root, `functions/${name}.ts`, handler) },
    { path: testPath, content: formatted(root, `test/unit/${name}.test.ts`, test) },
  );
  await writeFilesOrNone(files);

  const remaining = [
    `create what ${env.join(' and ')} name${env.length > 1 ? '' : 's'} (see the comment at the top of functions/${name}.ts), set ${env.length > 1 ? 'them' : 'it'} in the source's environment in place of the placeholder, and grant the function access`,
  ];
  if (templateName === 'window' && !wired) {
    remaining.push("import Duration from 'aws-cdk-lib' in the stack if it is not imported yet");
  }
  // The run needs what the stack would pass (the handler reads it at cold start) and, for a
  // window handler, the source's window: without them it fails, or runs no window code.
  const variables = env.map(
    (variable) => `${variable}=<${variable.toLowerCase().replace(/_/g, '-')}>`,
  );
  const window = templateName === 'window' ? ' --tumbling-window 300' : '';
  const tryIt = [
    `npx jest test/unit/${name}.test.ts`,
    `${variables.join(' ')} npx driverless run functions/${name}.ts --file <records.ndjson>${window}`,
  ];
  return {
    handler: handlerPath,
    test: testPath,
    sourceEntry: entry,
    ...(wired ? { wired } : {}),
    remaining,
    tryIt,
  };
}
