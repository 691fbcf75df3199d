import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** One finding of `cfn-lint --format json`. */
export interface CfnLintMatch {
  readonly Rule: { readonly Id: string };
  readonly Level: 'Error' | 'Warning' | 'Informational';
  readonly Message: string;
  readonly Filename: string;
  readonly Location: { readonly Path?: ReadonlyArray<string | number> };
}

/** Opting out on a machine without cfn-lint; CI has it, so there the test never skips. */
export const SKIP_CFN_LINT_VARIABLE = 'DRIVERLESS_SKIP_CFN_LINT';

/** `cfn-lint --version`, or why it cannot run. */
export function cfnLintVersion(): { version: string } | { missing: string } {
  const result = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
  if (result.error) return { missing: result.error.message };
  if (result.status !== 0) return { missing: result.stderr.trim() || `exit ${result.status}` };
  return { version: result.stdout.trim() };
}

/**
 * Lints the templates with cfn-lint, in `processes` parallel runs of templates of about equal
 * total size (its start-up and the graph rules of large templates dominate the time). cfn-lint
 * exits non-zero when it finds anything (a bit per level), so only a broken run rejects.
 */
export async function cfnLint(
  templates: readonly string[],
  options: { readonly processes?: number; readonly signal?: AbortSignal } = {},
): Promise<CfnLintMatch[]> {
  const processes = options.processes ?? 2;
  const bins: Array<{ bytes: number; files: string[] }> = Array.from({ length: processes }, () => ({
    bytes: 0,
    files: [],
  }));
  const bySize = templates
    .map((file) => ({ file, bytes: fs.statSync(file).size }))
    .sort((a, b) => b.bytes - a.bytes);
  for (const { file, bytes } of bySize) {
    const lightest = bins.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    lightest.bytes += bytes;
    lightest.files.push(file);
  }
  const runs = bins
    .filter((b) => b.files.length > 0)
    .map((b) => cfnLintRun(b.files, options.signal));
  return (await Promise.all(runs)).flat();
}

function cfnLintRun(files: readonly string[], signal?: AbortSignal): Promise<CfnLintMatch[]> {
  return new Promise((resolve, reject) => {
    const child = spawn('cfn-lint', ['--format', 'json', '--', ...files], { signal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve(JSON.parse(stdout) as CfnLintMatch[]);
      } catch {
        reject(new Error(`cfn-lint exited ${code} without a JSON report:\n${stderr}${stdout}`));
      }
    });
  });
}

/** `W3005 at Resources/X/DependsOn/1: message`, the way a person reads a finding. */
export function describeMatch(match: CfnLintMatch): string {
  return `${match.Rule.Id} at ${(match.Location.Path ?? []).join('/')}: ${match.Message}`;
}
