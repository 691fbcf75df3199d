import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './clients';

/** Options of {@link synthesize}. */
export interface SynthesizeOptions {
  /**
   * Context values over cdk.json's and cdk.context.json's, as `cdk synth -c key=value` gives them
   * (a value that parses as JSON is passed parsed, as the cdk CLI does). @default - none
   */
  readonly context?: Readonly<Record<string, string>>;
  /**
   * Stacks whose assets are bundled (the cdk CLI's `aws:cdk:bundling-stacks`): other stacks are
   * synthesized without running esbuild, which is what `cdk synth <stack>` saves.
   * @default - every stack
   */
  readonly bundlingStacks?: readonly string[];
}

/** Credentials a synth must never see: the local stack runs offline, with no AWS account. */
const AWS_CREDENTIAL_VARIABLES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
];

/**
 * Synthesizes the CDK app of `projectDir` into `outdir` the way the cdk CLI does, without the CLI,
 * the network or AWS credentials: runs cdk.json's `app` command in a shell with `CDK_OUTDIR` and
 * `CDK_CONTEXT_JSON` (cdk.json `context`, then cdk.context.json, then `options.context`), and the
 * project's `node_modules/.bin` (and its parents', as npm scripts have them) on the PATH. An `app`
 * that names a directory is an assembly already: it is returned as it is.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/configure-synth.html
 * @returns the assembly directory
 */
export async function synthesize(
  projectDir: string,
  outdir = resolve(projectDir, 'cdk.out'),
  options: SynthesizeOptions = {},
): Promise<string> {
  const project = readCdkJson(projectDir);
  const appAsDirectory = resolve(projectDir, project.app);
  if (existsSync(join(appAsDirectory, 'manifest.json')) && statSync(appAsDirectory).isDirectory()) {
    return appAsDirectory;
  }
  const context: Record<string, unknown> = {
    ...project.context,
    ...readContextFile(join(projectDir, 'cdk.context.json')),
    // What the cdk CLI adds to every synth: path metadata (the assembly names each resource's
    // construct path) and no version reporting (the local stack skips AWS::CDK::Metadata anyway).
    'aws:cdk:enable-path-metadata': true,
    'aws:cdk:version-reporting': false,
  };
  for (const [key, value] of Object.entries(options.context ?? {}))
    context[key] = parseValue(value);
  if (options.bundlingStacks !== undefined) {
    context['aws:cdk:bundling-stacks'] = [...options.bundlingStacks];
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_CONTEXT_JSON: JSON.stringify(context),
    CDK_DISABLE_VERSION_CHECK: '1',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    // An environment-agnostic stack resolves `CDK_DEFAULT_*` to the local account and region.
    CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT_ID,
    CDK_DEFAULT_REGION: LOCAL_REGION,
    PATH: [...binDirectories(projectDir), process.env.PATH ?? ''].join(delimiter),
  };
  for (const variable of AWS_CREDENTIAL_VARIABLES) delete env[variable];
  await new Promise<void>((done, fail) => {
    const child = spawn(project.app, {
      cwd: projectDir,
      env,
      shell: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', fail);
    child.on('exit', (code, signal) =>
      code === 0
        ? done()
        : fail(
            new Error(
              `synth failed (\`${project.app}\` ${signal ? `killed by ${signal}` : `exit ${code}`}):\n${output.trim()}`,
            ),
          ),
    );
  });
  const missing = missingContext(outdir);
  if (missing.length > 0) {
    throw new Error(
      `the app looks up ${missing.join(', ')} in an AWS account, which a local synth cannot do: run \`cdk synth\` once with credentials so cdk.context.json holds the answers`,
    );
  }
  return outdir;
}

interface CdkJson {
  app: string;
  context: Record<string, unknown>;
}

function readCdkJson(projectDir: string): CdkJson {
  const path = join(projectDir, 'cdk.json');
  let parsed: { app?: unknown; context?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not JSON';
    throw new Error(`${path} is ${reason}: run this in a CDK project (where cdk.json is)`);
  }
  if (typeof parsed.app !== 'string' || parsed.app.trim() === '') {
    throw new Error(`${path} names no "app" command (e.g. "npx tsx bin/app.ts")`);
  }
  const context =
    typeof parsed.context === 'object' && parsed.context !== null
      ? (parsed.context as Record<string, unknown>)
      : {};
  return { app: parsed.app, context };
}

function readContextFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new Error(`${path} is not JSON: fix or delete it`);
  }
}

/** `-c key=value`: JSON when it parses (numbers, booleans, objects), the string otherwise. */
function parseValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** `node_modules/.bin` of the project and of every directory above it, nearest first. */
function binDirectories(projectDir: string): string[] {
  const directories: string[] = [];
  let dir = resolve(projectDir);
  for (;;) {
    const bin = join(dir, 'node_modules', '.bin');
    if (existsSync(bin)) directories.push(bin);
    const parent = dirname(dir);
    if (parent === dir) return directories;
    dir = parent;
  }
}

/** Context lookups the app asked for and did not get (the manifest's `missing`). */
function missingContext(outdir: string): string[] {
  try {
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
      missing?: { key: string }[];
    };
    return (manifest.missing ?? []).map((entry) => entry.key);
  } catch {
    return [];
  }
}
