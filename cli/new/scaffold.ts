import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fail } from '../cli-error';

/** The templates `driverless new` offers, by their option name. */
export const TEMPLATES = {
  json: { file: 'json-to-dynamodb', env: ['TABLE_NAME'] },
  'multi-job': { file: 'multi-job', env: ['TABLE_NAME', 'QUEUE_URL'] },
  window: { file: 'window', env: ['TABLE_NAME'] },
} as const;
export type TemplateName = keyof typeof TEMPLATES;

export interface NewOptions {
  readonly template: string;
  readonly wire?: boolean;
  readonly force?: boolean;
  /** Project root: where `functions/`, `test/unit/` and `lib/retail-stack.ts` are. */
  readonly dir?: string;
}

/** What `driverless new` did, for its output. */
export interface Scaffolded {
  readonly handler: string;
  readonly test: string;
  readonly sourceEntry: string;
  readonly wired?: string;
  readonly remaining: readonly string[];
}

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

export function camelCase(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

/** Where the templates are: the project's own, else those shipped with this CLI's package. */
function templatesDir(root: string): string {
  const candidates = [
    join(root, 'functions', 'templates'),
    join(dirname(resolve(process.argv[1] ?? '.')), '..', 'functions', 'templates'),
  ];
  const found = candidates.find((dir) => existsSync(join(dir, 'json-to-dynamodb.ts')));
  if (!found)
    fail(`no handler templates under ${candidates[0]}: run from the project root or pass --dir`);
  return found;
}

/** The `sources` entry for the app's MicroBatchPipeline. */
export function sourceEntry(name: string, template: TemplateName): string {
  const env = TEMPLATES[template].env.map(
    (variable) => `${variable}: '<${variable.toLowerCase().replace('_', '-')}>'`,
  );
  const window = template === 'window' ? '\n  tumblingWindow: Duration.minutes(5),' : '';
  return `${camelCase(name)}: {
  stream: { shardCount: 1, streamName: '${name}' },
  entry: 'functions/${name}.ts',${window}
  environment: { ${env.join(', ')} },
},`;
}

/** The handler's source: the template with its first line naming the new function. */
export function handlerSource(template: string, name: string, templateName: TemplateName): string {
  return template.replace(
    /^\/\*\*\n \* Template: /,
    `/**\n * ${name} (from the ${templateName} template): `,
  );
}

/** The test's source: the template's test pointing at the new handler from `test/unit/`. */
export function testSource(template: string, name: string, templateFile: string): string {
  return template
    .replaceAll("'../../fixtures/", "'../fixtures/")
    .replaceAll(`'../../../functions/templates/${templateFile}'`, `'../../functions/${name}'`);
}

/** Inserts a source entry at the top of the first `sources: {` object of a stack file. */
export function wireSource(stack: string, entry: string): string | undefined {
  const match = /^([ \t]*)sources: \{\n/m.exec(stack);
  if (!match) return undefined;
  const indent = `${match[1]}  `;
  const block = entry
    .split('\n')
    .map((line) => `${indent}${line}`)
    .join('\n');
  const at = match.index + match[0].length;
  return `${stack.slice(0, at)}${block}\n${stack.slice(at)}`;
}

/**
 * Formats generated code with the project's biome (found in node_modules/.bin at or above the
 * root), so rewritten imports leave no formatting behind; unchanged when biome is not there.
 */
function formatted(root: string, path: string, source: string): string {
  let dir = root;
  while (!existsSync(join(dir, 'node_modules', '.bin', 'biome')) && dirname(dir) !== dir)
    dir = dirname(dir);
  const biome = join(dir, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return source;
  try {
    return execFileSync(biome, ['format', `--stdin-file-path=${path}`], {
      cwd: dir,
      input: source,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
    });
  } catch {
    return source;
  }
}

/** `driverless new`: writes the handler and its test, and wires or prints its source entry. */
export async function scaffold(name: string, options: NewOptions): Promise<Scaffolded> {
  if (!KEBAB.test(name)) fail(`<name> must be kebab-case like click-counts (given ${name})`);
  if (!Object.hasOwn(TEMPLATES, options.template)) {
    fail(
      `--template must be one of ${Object.keys(TEMPLATES).join(', ')} (given ${options.template})`,
    );
  }
  const templateName = options.template as TemplateName;
  const { file, env } = TEMPLATES[templateName];
  const root = resolve(options.dir ?? '.');
  const templates = templatesDir(root);
  const handlerPath = join(root, 'functions', `${name}.ts`);
  const testPath = join(root, 'test', 'unit', `${name}.test.ts`);
  for (const path of [handlerPath, testPath]) {
    if (existsSync(path) && !options.force)
      fail(`${relative(root, path)} exists: pass --force to overwrite it`);
  }
  const testTemplate = join(templates, '..', '..', 'test', 'unit', 'templates', `${file}.test.ts`);
  if (!existsSync(testTemplate))
    fail(`the ${templateName} template's test ${testTemplate} is missing`);
  const handler = handlerSource(
    await readFile(join(templates, `${file}.ts`), 'utf8'),
    name,
    templateName,
  );
  const test = testSource(await readFile(testTemplate, 'utf8'), name, file);
  await mkdir(dirname(handlerPath), { recursive: true });
  await mkdir(dirname(testPath), { recursive: true });
  await writeFile(handlerPath, formatted(root, `functions/${name}.ts`, handler));
  await writeFile(testPath, formatted(root, `test/unit/${name}.test.ts`, test));

  const entry = sourceEntry(name, templateName);
  const remaining = [
    `create what ${env.join(' and ')} name${env.length > 1 ? '' : 's'} (see the comment at the top of functions/${name}.ts), set them in the entry's environment and grant the function access`,
  ];
  if (templateName === 'window')
    remaining.push("import Duration from 'aws-cdk-lib' in the stack if it is not imported yet");
  let wired: string | undefined;
  if (options.wire) {
    const stackPath = join(root, 'lib', 'retail-stack.ts');
    if (!existsSync(stackPath)) fail(`--wire needs ${relative(root, stackPath)} (no such file)`);
    const stack = await readFile(stackPath, 'utf8');
    if (stack.includes(`streamName: '${name}'`))
      fail(`lib/retail-stack.ts already has a source on stream ${name}`);
    const updated = wireSource(stack, entry);
    if (updated === undefined)
      fail('lib/retail-stack.ts has no `sources: {` object to add the source to');
    await writeFile(stackPath, updated);
    wired = stackPath;
  }
  return {
    handler: handlerPath,
    test: testPath,
    sourceEntry: entry,
    ...(wired ? { wired } : {}),
    remaining,
  };
}
