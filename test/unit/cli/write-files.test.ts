import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesOrNone } from '../../../cli/write-files';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'write-files-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('writeFilesOrNone', () => {
  it('writes every file, creating folders', async () => {
    // When
    await writeFilesOrNone([
      { path: join(root, 'a', 'b.ts'), content: 'b' },
      { path: join(root, 'c.ts'), content: 'c' },
    ]);

    // Then
    expect([
      readFileSync(join(root, 'a', 'b.ts'), 'utf8'),
      readFileSync(join(root, 'c.ts'), 'utf8'),
    ]).toStrictEqual(['b', 'c']);
  });

  it('restores what it wrote when a later write fails, and removes the folders it created', async () => {
    // Given: a file to change, and a last path whose parent is a file
    writeFileSync(join(root, 'stack.ts'), 'before');
    mkdirSync(join(root, 'blocked'));
    writeFileSync(join(root, 'blocked', 'file'), '');

    // When
    const writing = writeFilesOrNone([
      { path: join(root, 'functions', 'new.ts'), content: 'new' },
      { path: join(root, 'stack.ts'), content: 'after' },
      { path: join(root, 'blocked', 'file', 'x.ts'), content: 'x' },
    ]);

    // Then
    await expect(writing).rejects.toThrow();
    expect(existsSync(join(root, 'functions'))).toBe(false);
    expect(readFileSync(join(root, 'stack.ts'), 'utf8')).toBe('before');
  });
});
