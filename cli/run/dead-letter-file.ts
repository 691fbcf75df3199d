import { existsSync, readFileSync, statSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fail } from '../cli-error';

const WHY: Record<string, string> = {
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a folder on its path is a file',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
};

/**
 * Where a run's dead letters go, checked before any record runs: the runtime appends to it only
 * when a record is dead-lettered, and finding then that it cannot be written would leave a run
 * half done with a letter lost. Fails with exit 2 if letters could not be appended to it, or if
 * it is the input file itself.
 */
export async function checkDeadLetterFile(
  path: string,
  how: { readonly given: boolean; readonly inputFile?: string },
): Promise<void> {
  const name = how.given ? `--dead-letters ${path}` : `the dead-letter file ${path}`;
  const hint = how.given ? '' : ': pass --dead-letters <path>';
  if (how.inputFile !== undefined && resolve(how.inputFile) === resolve(path))
    fail(`${name} is the input file: letters would be appended to the records being read`);
  const existed = existsSync(path);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'a');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'Error';
    fail(`${name} cannot be written (${code}${WHY[code] ? `: ${WHY[code]}` : ''})${hint}`);
  }
  await handle.close();
  // A run without letters leaves no file behind, as before the check.
  if (!existed) await rm(path, { force: true });
}

/** The size of the dead-letter file before a run: letters past it are this run's. */
export function deadLetterOffset(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

/** Distinct dead letters appended to `path` after `offset` bytes. */
export function countDeadLetters(path: string, offset: number): number {
  if (!existsSync(path)) return 0;
  const ids = new Set<string>();
  for (const line of readFileSync(path).subarray(offset).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      ids.add(String((JSON.parse(line) as { id?: unknown }).id ?? line));
    } catch {
      ids.add(line);
    }
  }
  return ids.size;
}

/**
 * How many of the distinct dead letters appended to `path` after `offset` bytes give each reason:
 * what a failed run says about its dead letters, so the user need not open the file to know why.
 */
export function deadLetterReasons(path: string, offset: number): Map<string, number> {
  const reasons = new Map<string, number>();
  if (!existsSync(path)) return reasons;
  const seen = new Set<string>();
  for (const line of readFileSync(path).subarray(offset).toString('utf8').split('\n')) {
    if (line.trim() === '') continue;
    let letter: { id?: unknown; reason?: unknown };
    try {
      letter = JSON.parse(line) as { id?: unknown; reason?: unknown };
    } catch {
      continue;
    }
    const id = String(letter.id ?? line);
    if (seen.has(id)) continue;
    seen.add(id);
    const reason = typeof letter.reason === 'string' ? letter.reason : 'no reason given';
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return reasons;
}
