/**
 * `npm install` must work on every machine a TypeScript developer uses: Linux x64 and arm64,
 * macOS, Windows. npm refuses (EBADPLATFORM) a required package whose `os`/`cpu` exclude the
 * machine, and a dry run with `--os`/`--cpu` does not show it (npm checks required packages against
 * the real platform), so these tests read the manifest and the lock the way npm ci does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

interface LockEntry {
  readonly name?: string;
  readonly version?: string;
  readonly os?: string | readonly string[];
  readonly cpu?: string | readonly string[];
  readonly optional?: boolean;
  readonly inBundle?: boolean;
  readonly link?: boolean;
  readonly integrity?: string;
  readonly resolved?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

const PLATFORMS = [
  { os: 'linux', cpu: 'x64' },
  { os: 'linux', cpu: 'arm64' },
  { os: 'darwin', cpu: 'arm64' },
  { os: 'darwin', cpu: 'x64' },
  { os: 'win32', cpu: 'x64' },
] as const;

const list = (value: string | readonly string[] | undefined): readonly string[] | undefined =>
  value === undefined ? undefined : typeof value === 'string' ? [value] : value;

/** npm's os/cpu check: an allow-list, or a deny-list of `!name` entries. */
function allows(values: readonly string[] | undefined, actual: string): boolean {
  if (values === undefined || values.length === 0) return true;
  if (values.some((value) => value === actual)) return true;
  const denied = values.filter((value) => value.startsWith('!'));
  return denied.length > 0 && !denied.includes(`!${actual}`) && values.length === denied.length;
}

const installsOn = (entry: LockEntry, platform: (typeof PLATFORMS)[number]): boolean =>
  allows(list(entry.os), platform.os) && allows(list(entry.cpu), platform.cpu);

const registryEntries = Object.entries(lock.packages).filter(
  ([location, entry]) => location.includes('node_modules/') && !entry.link,
);

describe('the lock file installs on every developer platform', () => {
  it('marks every package limited to some os or cpu as optional', () => {
    // Given: the packages npm would install, required ones included (devDependencies too)
    // When
    const limitedAndRequired = registryEntries
      .filter(([, entry]) => (entry.os !== undefined || entry.cpu !== undefined) && !entry.optional)
      .map(([location]) => location);

    // Then
    expect(limitedAndRequired).toStrictEqual([]);
  });

  it.each(PLATFORMS)('leaves out only optional packages on $os/$cpu', (platform) => {
    // Given: the whole tree, as npm ci reads it from the lock
    // When
    const refused = registryEntries
      .filter(([, entry]) => !installsOn(entry, platform) && !entry.optional)
      .map(([location]) => location);

    // Then
    expect(refused).toStrictEqual([]);
  });

  it.each(['esbuild', '@swc/core', '@biomejs/biome', 'typescript'])(
    'has a native binary of %s for each platform',
    (name) => {
      // Given: a package whose native part ships as optional per-platform packages
      const entry = lock.packages[`node_modules/${name}`];
      const natives = Object.keys(entry?.optionalDependencies ?? {}).map(
        (dependency) => lock.packages[`node_modules/${dependency}`],
      );

      // When
      const missing = PLATFORMS.filter(
        (platform) =>
          !natives.some((native) => native !== undefined && installsOn(native, platform)),
      ).map(({ os, cpu }) => `${os}/${cpu}`);

      // Then
      expect(missing).toStrictEqual([]);
    },
  );

  it('carries the registry integrity of every package it downloads', () => {
    // Given: packages fetched from the registry (not bundled in a parent, not local links)
    // When
    const unverified = registryEntries
      .filter(([, entry]) => !entry.inBundle && !entry.resolved?.startsWith('file:'))
      .filter(([, entry]) => !entry.integrity)
      .map(([location]) => location);

    // Then
    expect(unverified).toStrictEqual([]);
  });
});

describe('package.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    readonly engines?: Record<string, string>;
    readonly dependencies?: Record<string, string>;
    readonly devDependencies?: Record<string, string>;
    readonly peerDependencies?: Record<string, string>;
  };

  it('requires Node.js 22 or later', () => {
    expect(manifest.engines).toStrictEqual({ node: '>=22' });
  });

  it('names no platform-limited package as a dependency or devDependency', () => {
    // Given
    const direct = { ...manifest.dependencies, ...manifest.devDependencies };

    // When
    const limited = Object.keys(direct).filter((name) => {
      const entry = lock.packages[`node_modules/${name}`];
      return entry !== undefined && (entry.os !== undefined || entry.cpu !== undefined);
    });

    // Then
    expect(limited).toStrictEqual([]);
  });

  it('takes aws-cdk-lib and constructs from the app, as peers, not as dependencies', () => {
    expect({
      peers: Object.keys(manifest.peerDependencies ?? {}).sort(),
      dependencies: Object.keys(manifest.dependencies ?? {}).filter((name) =>
        ['aws-cdk-lib', 'constructs'].includes(name),
      ),
    }).toStrictEqual({ peers: ['aws-cdk-lib', 'constructs'], dependencies: [] });
  });
});
