import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A file to write: its absolute path and its whole content. */
export interface FileToWrite {
  readonly path: string;
  readonly content: string;
}

/**
 * Writes every file, or none: if one write fails, the files already written get their previous
 * content back (or are removed, with the directories created for them), and the error is thrown.
 * Commands check everything before calling it, so a failure here is the file system's.
 */
export async function writeFilesOrNone(files: readonly FileToWrite[]): Promise<void> {
  const undo: (() => Promise<void>)[] = [];
  try {
    for (const { path, content } of files) {
      const previous = existsSync(path) ? await readFile(path, 'utf8') : undefined;
      const created = await mkdir(dirname(path), { recursive: true });
      undo.push(async () => {
        if (previous === undefined) await rm(path, { force: true });
        else await writeFile(path, previous);
        if (created !== undefined) await removeEmptyUpTo(dirname(path), dirname(created));
      });
      await writeFile(path, content);
    }
  } catch (error) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw error;
  }
}

/** Removes `dir` and its parents while they are empty, stopping at `stop` (not removed). */
async function removeEmptyUpTo(dir: string, stop: string): Promise<void> {
  for (let current = dir; current !== stop && current !== dirname(current); ) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}
