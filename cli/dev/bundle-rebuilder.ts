import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import type { LocalFunction } from '../../emulator/index';
import type { BundleRecipe } from '../../lib/function-bundle';

/**
 * Rebuilds function bundles straight from their recipes (the `driverless:bundle` metadata), far
 * faster than a synth, and knows from esbuild's metafile which project files feed which bundle and
 * which feed the app itself. A change may skip the synth only when every file it touches feeds
 * bundles and nothing else: a file the app imports (a stack, its config) can change the template.
 */
export class BundleRebuilder {
  private generation = 0;
  /** How the last `rebuild` spent its time, in ms: esbuild, then writing the new code directories. */
  lastRebuild: { readonly buildMs: number; readonly writeMs: number } = { buildMs: 0, writeMs: 0 };
  /** Whether the inputs of the app and of every bundle are those of the files as they are. */
  private known = false;

  private constructor(
    private readonly projectDir: string,
    private readonly appEntry: string,
    private readonly outputRoot: string,
    private readonly builds: Map<string, FunctionBuild>,
    private appInputs: ReadonlySet<string>,
  ) {}

  /**
   * Prepares an incremental esbuild context for every function with a recipe and builds each once
   * to learn its inputs. Resolves to undefined when the app's own files cannot be known (its
   * cdk.json `app` names no source file), since then no change can be told apart from a stack
   * change.
   */
  static async start(options: {
    /** The CDK project (where cdk.json is). */
    readonly projectDir: string;
    /** The functions that run. */
    readonly functions: readonly LocalFunction[];
    /** A directory of the session's own, where new code directories go. */
    readonly outputRoot: string;
  }): Promise<BundleRebuilder | undefined> {
    const projectDir = resolve(options.projectDir);
    const appEntry = appEntryOf(projectDir);
    if (appEntry === undefined) return undefined;
    const builds = new Map<string, FunctionBuild>();
    try {
      for (const fn of options.functions) {
        if (fn.bundle === undefined) continue;
        const context = await esbuild.context(
          recipeBuildOptions(projectDir, fn.bundle, join(options.outputRoot, fn.logicalId)),
        );
        builds.set(fn.name, { fn, context, inputs: new Set() });
      }
      const rebuilder = new BundleRebuilder(
        projectDir,
        appEntry,
        options.outputRoot,
        builds,
        new Set(),
      );
      if (!(await rebuilder.refresh()))
        throw new Error(`${appEntry} or a function entry does not build`);
      return rebuilder;
    } catch (error) {
      await Promise.all([...builds.values()].map((build) => build.context.dispose()));
      throw error;
    }
  }

  /**
   * The functions to rebuild for these changed files (project-relative, `/` separated), or
   * undefined when the change needs a synth: a file the app imports, or one no bundle contains
   * (a new file, cdk.json, anything the bundles do not show to feed only them).
   */
  affected(paths: readonly string[]): string[] | undefined {
    if (!this.known) return undefined;
    const names = new Set<string>();
    for (const path of paths) {
      if (this.appInputs.has(path)) return undefined;
      const feeds = [...this.builds].filter(([, build]) => build.inputs.has(path));
      if (feeds.length === 0) return undefined;
      for (const [name] of feeds) names.add(name);
    }
    return [...names].sort();
  }

  /**
   * Rebuilds these functions' bundles, each into a new code directory beside the others (so that
   * the version that runs keeps its files), with the files built from dependencies alone taken
   * from `codeDirectoryOf(name)`, the code that runs. Returns name → new code directory.
   */
  async rebuild(
    names: readonly string[],
    codeDirectoryOf: (name: string) => string,
  ): Promise<Map<string, string>> {
    this.generation++;
    const directories = new Map<string, string>();
    let buildMs = 0;
    let writeMs = 0;
    for (const name of names) {
      const build = this.builds.get(name);
      if (build === undefined) throw new Error(`no bundle recipe for function ${name}`);
      const buildStart = performance.now();
      const result = await build.context.rebuild();
      const writeStart = performance.now();
      buildMs += writeStart - buildStart;
      // An edit can add or drop imports: the next change is judged by the new inputs.
      build.inputs = inputsOf(result);
      const planned = join(this.outputRoot, build.fn.logicalId);
      // A sibling of the planned directory: the source map's relative paths stay right.
      const directory = `${planned}-${this.generation}`;
      for (const file of result.outputFiles ?? []) {
        const target = join(directory, relative(planned, file.path));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, file.contents);
      }
      const from = codeDirectoryOf(name);
      for (const file of build.fn.bundle?.fromDependencies ?? []) {
        if (!existsSync(join(from, file))) continue;
        await mkdir(dirname(join(directory, file)), { recursive: true });
        await copyFile(join(from, file), join(directory, file));
      }
      writeMs += performance.now() - writeStart;
      directories.set(name, directory);
    }
    this.lastRebuild = { buildMs, writeMs };
    return directories;
  }

  /**
   * Reads again which files feed the app and each bundle: after a synth, whose change may have
   * added or dropped imports on either side. While they cannot be read (a file that does not
   * build), every change goes through the synth. Returns whether they could.
   */
  async refresh(): Promise<boolean> {
    this.known = false;
    try {
      this.appInputs = await importedFiles(this.projectDir, this.appEntry);
      for (const build of this.builds.values()) {
        build.inputs = inputsOf(await build.context.rebuild());
      }
      this.known = true;
    } catch {
      // The synth that follows the next change says what does not build.
    }
    return this.known;
  }

  /**
   * Learns functions added to the running app, so that a change to a file they share with the
   * others rebuilds them too. Builds only the new ones: the others were rebuilt by the synth that
   * added them.
   */
  async addFunctions(functions: readonly LocalFunction[]): Promise<void> {
    for (const fn of functions) {
      if (fn.bundle === undefined || this.builds.has(fn.name)) continue;
      const context = await esbuild.context(
        recipeBuildOptions(this.projectDir, fn.bundle, join(this.outputRoot, fn.logicalId)),
      );
      // One that does not build yet has no inputs: the synth that follows the next change says why.
      const inputs = await context.rebuild().then(inputsOf, () => new Set<string>());
      this.builds.set(fn.name, { fn, context, inputs });
    }
  }

  /** Project files (relative, `/` separated) that feed this function's bundle. */
  inputsOf(functionName: string): ReadonlySet<string> {
    return this.builds.get(functionName)?.inputs ?? new Set();
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.builds.values()].map((build) => build.context.dispose()));
    this.builds.clear();
  }
}

interface FunctionBuild {
  readonly fn: LocalFunction;
  readonly context: esbuild.BuildContext<{ write: false; metafile: true }>;
  inputs: Set<string>;
}

/**
 * What NodejsFunction passes to esbuild for this recipe, in esbuild's API, with the output
 * planned in `outputDir`. Nothing is written:
 * `rebuild` writes each result into a new directory.
 */
export function recipeBuildOptions(
  projectDir: string,
  recipe: BundleRecipe,
  outputDir: string,
): esbuild.BuildOptions & { write: false; metafile: true } {
  return {
    absWorkingDir: projectDir,
    entryPoints: [recipe.entry],
    bundle: true,
    platform: recipe.platform,
    target: recipe.target,
    format: recipe.format,
    minify: recipe.minify,
    sourcemap: recipe.sourcemap,
    external: [...recipe.externals],
    outfile: join(outputDir, 'index.js'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  };
}

/** The metafile's inputs: paths relative to the project, `/` separated, as esbuild gives them. */
function inputsOf(result: esbuild.BuildResult<{ metafile: true }>): Set<string> {
  return new Set(Object.keys(result.metafile.inputs));
}

/**
 * The source file cdk.json's `app` command runs (`tsx bin/app.ts`, `npx ts-node --prefer-ts-exts
 * bin/app.ts`, `node bin/app.js`): its first argument that names a script in the project.
 */
export function appEntryOf(projectDir: string): string | undefined {
  let app: unknown;
  try {
    app = (JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as { app?: unknown }).app;
  } catch {
    return undefined;
  }
  if (typeof app !== 'string') return undefined;
  return app
    .split(/\s+/)
    .map((word) => word.replace(/^["']|["']$/g, ''))
    .find((word) => /\.[cm]?[jt]sx?$/.test(word) && existsSync(resolve(projectDir, word)));
}

/**
 * Every project file the app's entry imports, followed as esbuild resolves them; packages are
 * left out (they are not watched, and a constructs library can be large).
 */
async function importedFiles(projectDir: string, entry: string): Promise<Set<string>> {
  const result = await esbuild.build({
    absWorkingDir: projectDir,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    packages: 'external',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outfile: join(projectDir, 'app.js'),
  });
  return inputsOf(result);
}

/**
 * Whether two code directories hold the same handler module (`index.handler` → `index.js`, `.mjs`
 * or `.cjs`). After a rebuild without the synth, the next synth stages the same bundle under the
 * CDK's own asset name: comparing names alone would publish it again.
 */
export function sameHandlerModule(handler: string, a: string, b: string): boolean {
  const module = handler.slice(0, handler.lastIndexOf('.'));
  for (const extension of ['.js', '.mjs', '.cjs']) {
    const [first, second] = [join(a, module + extension), join(b, module + extension)];
    if (existsSync(first) || existsSync(second)) {
      return (
        existsSync(first) && existsSync(second) && readFileSync(first).equals(readFileSync(second))
      );
    }
  }
  return false;
}
