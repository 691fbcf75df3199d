import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Synthesizes the CDK app of `cdk.json` into `outdir` by running `bin/app.ts` directly: the same
 * assembly `cdk synth` writes, with no CLI, no network and no AWS credentials.
 */
export async function synthesize(
  projectDir: string,
  outdir = resolve(projectDir, 'cdk.out'),
): Promise<string> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_OUTDIR: outdir,
    CDK_DISABLE_VERSION_CHECK: '1',
  };
  for (const variable of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
  ]) {
    delete env[variable];
  }
  const tsx = resolve(projectDir, 'node_modules/.bin/tsx');
  await new Promise<void>((done, fail) => {
    const child = spawn(tsx, ['bin/app.ts'], {
      cwd: projectDir,
      env,
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
    child.on('exit', (code) =>
      code === 0 ? done() : fail(new Error(`synth failed (exit ${code}):\n${output.trim()}`)),
    );
  });
  return outdir;
}
