/**
 * The fast path of `driverless dev`: which changes skip the synth (files that feed function
 * bundles and not the app), and the rebuild itself (new code in a new directory, the files built
 * from dependencies taken from the code that runs).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BundleRebuilder, sameHandlerModule } from '../../../cli/dev/bundle-rebuilder';
import type { LocalFunction } from '../../../emulator/index';
import { bundleRecipe, KPL_MODULE_FILE } from '../../../lib/function-bundle';

let project: string;
let rebuilder: BundleRebuilder;

function write(path: string, content: string): void {
  mkdirSync(dirname(join(project, path)), { recursive: true });
  writeFileSync(join(project, path), content);
}

function fn(name: string, entry: string): LocalFunction {
  return {
    logicalId: `${name}Fn`,
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    codeDirectory: join(project, 'running', name),
    handler: 'index.handler',
    timeoutSeconds: 30,
    memoryMb: 256,
    environment: {},
    aliases: ['live'],
    bundle: bundleRecipe(entry, false, project),
  };
}

beforeEach(async () => {
  // Given: an app whose stack imports a shared config, and two handlers: one imports a helper
  // and the shared config, the other only itself
  project = mkdtempSync(join(tmpdir(), 'driverless-rebuild-'));
  write('cdk.json', JSON.stringify({ app: 'npx tsx bin/app.ts' }));
  write('bin/app.ts', "import { stack } from '../lib/stack';\nconsole.log(stack);\n");
  write('lib/stack.ts', "import { TABLE } from '../shared/config';\nexport const stack = TABLE;\n");
  write('shared/config.ts', "export const TABLE = 'views';\n");
  write('functions/helper.ts', "export const greet = (n: string) => 'hello ' + n;\n");
  write(
    'functions/views.ts',
    "import { greet } from './helper';\nimport { TABLE } from '../shared/config';\nexport const handler = async () => greet(TABLE);\n",
  );
  write('functions/orders.ts', "export const handler = async () => 'orders v1';\n");
  write(`running/views/${KPL_MODULE_FILE}`, 'module.exports = "kpl";\n');
  const made = await BundleRebuilder.start({
    projectDir: project,
    functions: [fn('views', 'functions/views.ts'), fn('orders', 'functions/orders.ts')],
    outputRoot: join(project, '.driverless', 'bundles'),
  });
  if (made === undefined) throw new Error('no rebuilder for an app with a script entry');
  rebuilder = made;
});

afterEach(async () => {
  await rebuilder.dispose();
  rmSync(project, { recursive: true, force: true });
});

describe('which changes skip the synth', () => {
  it('rebuilds only the functions a changed handler file feeds', () => {
    // When / Then
    expect(rebuilder.affected(['functions/helper.ts'])).toStrictEqual(['views']);
    expect(rebuilder.affected(['functions/orders.ts', 'functions/views.ts'])).toStrictEqual([
      'orders',
      'views',
    ]);
  });

  it('rebuilds a function added while the session runs with the others that share its file', async () => {
    // Given: a new function on the views handler's helper
    write(
      'functions/clicks.ts',
      "import { greet } from './helper';\nexport const handler = async () => greet('clicks');\n",
    );

    // When
    await rebuilder.addFunctions([fn('clicks', 'functions/clicks.ts')]);

    // Then
    expect(rebuilder.affected(['functions/helper.ts'])).toStrictEqual(['clicks', 'views']);
  });

  it('synthesizes for a stack file', () => {
    expect(rebuilder.affected(['functions/orders.ts', 'lib/stack.ts'])).toBeUndefined();
  });

  it('synthesizes for a file both the app and a handler import', () => {
    expect(rebuilder.affected(['shared/config.ts'])).toBeUndefined();
  });

  it('synthesizes for a file no bundle contains', () => {
    expect(rebuilder.affected(['functions/new-helper.ts'])).toBeUndefined();
  });

  it('follows an import a rebuilt handler adds', async () => {
    // Given
    write('functions/format.ts', 'export const upper = (s: string) => s.toUpperCase();\n');
    write(
      'functions/orders.ts',
      "import { upper } from './format';\nexport const handler = async () => upper('orders');\n",
    );

    // When
    await rebuilder.rebuild(['orders'], (name) => join(project, 'running', name));

    // Then
    expect(rebuilder.affected(['functions/format.ts'])).toStrictEqual(['orders']);
  });

  it('synthesizes for every file while a handler does not build, until a refresh reads them', async () => {
    // Given
    write('functions/orders.ts', 'export const handler = async () => {{');

    // When
    const refreshed = await rebuilder.refresh();

    // Then
    expect(refreshed).toBe(false);
    expect(rebuilder.affected(['functions/helper.ts'])).toBeUndefined();
  });
});

describe('the rebuild', () => {
  it('writes the new code into a new directory, the KPL module taken from the running code', async () => {
    // Given
    write('functions/orders.ts', "export const handler = async () => 'orders v2';\n");
    write(`running/orders/${KPL_MODULE_FILE}`, 'module.exports = "kpl";\n');

    // When
    const built = await rebuilder.rebuild(['orders'], (name) => join(project, 'running', name));

    // Then
    const directory = built.get('orders') as string;
    expect(readFileSync(join(directory, 'index.js'), 'utf8')).toContain('orders v2');
    expect(existsSync(join(directory, 'index.js.map'))).toBe(true);
    expect(readFileSync(join(directory, KPL_MODULE_FILE), 'utf8')).toBe(
      'module.exports = "kpl";\n',
    );
  });

  it('gives every rebuild its own directory, so the version that runs keeps its files', async () => {
    // When
    const first = await rebuilder.rebuild(['orders'], (name) => join(project, 'running', name));
    const second = await rebuilder.rebuild(['orders'], (name) => join(project, 'running', name));

    // Then
    expect(first.get('orders')).not.toBe(second.get('orders'));
    expect(existsSync(join(first.get('orders') as string, 'index.js'))).toBe(true);
  });

  it('fails with esbuild saying what does not build', async () => {
    // Given
    write('functions/orders.ts', 'export const handler = async () => {{');

    // When / Then
    await expect(
      rebuilder.rebuild(['orders'], (name) => join(project, 'running', name)),
    ).rejects.toThrow(/orders\.ts/);
  });
});

it('is not made when cdk.json names no script (every change then synthesizes)', async () => {
  // Given
  write('cdk.json', JSON.stringify({ app: 'make synth' }));

  // When
  const made = await BundleRebuilder.start({
    projectDir: project,
    functions: [fn('orders', 'functions/orders.ts')],
    outputRoot: join(project, '.driverless', 'other'),
  });

  // Then
  expect(made).toBeUndefined();
});

describe('sameHandlerModule', () => {
  it('tells the same bundle under another directory name from a changed one', () => {
    // Given: a rebuilt bundle, the synth's copy of it, and a changed one
    write('rebuilt/index.js', 'exports.handler = 1;\n');
    write('asset.abc/index.js', 'exports.handler = 1;\n');
    write('asset.def/index.js', 'exports.handler = 2;\n');
    const at = (dir: string) => join(project, dir);

    // When / Then
    expect(sameHandlerModule('index.handler', at('rebuilt'), at('asset.abc'))).toBe(true);
    expect(sameHandlerModule('index.handler', at('rebuilt'), at('asset.def'))).toBe(false);
  });
});
