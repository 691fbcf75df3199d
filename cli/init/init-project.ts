import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fail } from '../cli-error';
import { type PackageManifest, packageManifest } from '../package-root';
import { writeFilesOrNone } from '../write-files';
import { projectFiles } from './project-files';

/** Options of {@link initProject}. */
export interface InitProjectOptions {
  /** Where to create the project: a new or empty directory (a `.git` alone is allowed). */
  readonly dir: string;
  /**
   * The project's name, kebab-case: package.json's name, `lib/<name>-stack.ts`.
   *
   * @default - the directory's name
   */
  readonly name?: string;
  /**
   * The `driverless` package whose version and dependency versions the project gets.
   *
   * @default - the manifest of the package this CLI runs from
   */
  readonly manifest?: PackageManifest;
}

/** What {@link initProject} created. */
export interface InitializedProject {
  readonly dir: string;
  readonly name: string;
  /** Paths of the files written, relative to `dir`, in writing order. */
  readonly files: readonly string[];
}

const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * `driverless init`: writes a complete pipeline project into `dir` (package.json, cdk.json,
 * bin/, lib/, functions/, test/, a sample file), which passes `npm start`, `npm test` and
 * `npx cdk synth` once installed. Checks everything first; writes all files or none.
 */
export async function initProject(options: InitProjectOptions): Promise<InitializedProject> {
  const dir = resolve(options.dir);
  const name = options.name ?? basename(dir);
  if (!KEBAB.test(name)) {
    fail(
      options.name === undefined
        ? `the directory name must be kebab-case like click-pipeline, or pass --name (given ${name})`
        : `--name must be kebab-case like click-pipeline (given ${name})`,
    );
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) fail(`${options.dir} exists and is not a directory`);
    const entries = readdirSync(dir).filter((entry) => entry !== '.git');
    if (entries.length > 0) {
      fail(`${options.dir} is not empty (${entries.length} entries): choose a new directory`);
    }
  }
  const files = projectFiles({ name, manifest: options.manifest ?? packageManifest() });
  await writeFilesOrNone(
    Object.entries(files).map(([path, content]) => ({ path: join(dir, path), content })),
  );
  return { dir, name, files: Object.keys(files) };
}
