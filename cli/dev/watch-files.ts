import { type FSWatcher, readdirSync, readFileSync, watch } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** What to watch, as cdk.json's `watch` section says it (the one `cdk watch` reads). */
export interface WatchPatterns {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

/**
 * Never watched, whatever cdk.json says: dependencies, build output and what dev itself writes
 * (an assembly written into the project must not trigger another synth).
 */
const ALWAYS_EXCLUDED = ['node_modules', 'cdk.out', '.driverless', '.git', 'dist', 'coverage'];

/** `cdk watch`'s defaults when cdk.json has no `watch` section: everything but dependencies and tests. */
const DEFAULT_PATTERNS: WatchPatterns = {
  include: ['**'],
  exclude: ['README.md', 'cdk*.json', '**/*.d.ts', 'package*.json', 'test', '**/*.test.ts'],
};

/** The patterns of cdk.json's `watch` section, or the defaults. */
export function readWatchPatterns(projectDir: string): WatchPatterns {
  try {
    const { watch: section } = JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as {
      watch?: { include?: string | string[]; exclude?: string | string[] };
    };
    if (!section) return DEFAULT_PATTERNS;
    const list = (value: string | string[] | undefined) =>
      value === undefined ? [] : Array.isArray(value) ? value : [value];
    return {
      include: section.include === undefined ? ['**'] : list(section.include),
      exclude: list(section.exclude),
    };
  } catch {
    return DEFAULT_PATTERNS;
  }
}

/**
 * A glob as cdk watch reads one, relative to the project: `**` any path, `*` any name part, a
 * bare name or directory matches itself and everything under it.
 */
export function globMatcher(pattern: string): (path: string) => boolean {
  const cleaned = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < cleaned.length; i++) {
    const char = cleaned[i] as string;
    if (char === '*' && cleaned[i + 1] === '*') {
      source += cleaned[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += cleaned[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const regex = new RegExp(`^${source}(?:/.*)?$`);
  return (path) => regex.test(path);
}

/** Whether a project-relative path (with `/`) is one watch mode reacts to. */
export function isWatched(path: string, patterns: WatchPatterns): boolean {
  const parts = path.split('/');
  if (parts.some((part) => ALWAYS_EXCLUDED.includes(part))) return false;
  if (parts.some((part) => part.startsWith('.'))) return false;
  const included = patterns.include.some((pattern) => globMatcher(pattern)(path));
  return included && !patterns.exclude.some((pattern) => globMatcher(pattern)(path));
}

/**
 * Watches the project's files (not `node_modules` and the like, which are never opened) and calls
 * `onChange` once per burst of changes, `debounceMs` after the last, with the paths that changed
 * and when the first of them was seen (epoch ms).
 * An editor's save is one to three events a few ms apart (written in place, or a temporary file
 * renamed over it): 25 ms gathers them without adding to every change's wait. A burst that still
 * comes in two parts costs one more update, not a lost change (the caller coalesces).
 */
export function watchFiles(
  projectDir: string,
  patterns: WatchPatterns,
  onChange: (paths: string[], firstSeenAt: number) => void,
  debounceMs = 25,
): { close(): void } {
  const watchers: FSWatcher[] = [];
  let pending = new Set<string>();
  let firstSeenAt = 0;
  let timer: NodeJS.Timeout | undefined;
  const changed = (path: string) => {
    if (!isWatched(path, patterns)) return;
    if (pending.size === 0) firstSeenAt = Date.now();
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const paths = [...pending].sort();
      pending = new Set();
      onChange(paths, firstSeenAt);
    }, debounceMs);
  };
  for (const entry of readdirSync(projectDir, { withFileTypes: true })) {
    if (ALWAYS_EXCLUDED.includes(entry.name) || entry.name.startsWith('.')) continue;
    const path = join(projectDir, entry.name);
    // One recursive watcher per top-level directory: watching the project root recursively
    // would walk node_modules.
    const watcher = entry.isDirectory()
      ? watch(path, { recursive: true }, (_, file) => {
          if (file) changed(`${entry.name}/${String(file).split(sep).join('/')}`);
        })
      : watch(path, () => changed(relative(projectDir, path).split(sep).join('/')));
    watcher.on('error', () => undefined);
    watchers.push(watcher);
  }
  return {
    close() {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
