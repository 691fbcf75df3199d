/**
 * Writes a consumer project's package-lock.json from this repository's own lock, so the consumer
 * installs offline exactly the versions the repository's `npm ci` put in the npm cache.
 *
 * npm resolves a project without a lock from full registry metadata, which an `npm ci` never
 * caches; with a lock it needs only the tarballs (and the abbreviated metadata `npm ci` fetched
 * when the lock omits download addresses). Each consumer dependency is copied from the repository
 * tree with everything under it, and its own dependencies are followed the way Node resolves them
 * (nearest `node_modules` first), so the result is a valid tree of the same packages. Each entry
 * gets its tarball address, which the repository lock may omit: without it npm would read the
 * package's registry metadata to find the tarball, and only a cached tarball is certain here.
 */

interface LockEntry {
  readonly name?: string;
  readonly version?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly [field: string]: unknown;
}

export interface RepositoryLock {
  readonly packages: Record<string, LockEntry>;
}

export interface ConsumerLockOptions {
  /** The consumer's package.json. */
  readonly manifest: {
    readonly name: string;
    readonly version: string;
    readonly dependencies?: Record<string, string>;
    readonly devDependencies?: Record<string, string>;
  };
  /**
   * A workspace of the repository whose node_modules is the consumer's top level, before the
   * repository's own (how a consumer gets versions the repository itself does not use).
   * @default '' - the repository root
   */
  readonly base?: string;
  /** Entries written as given (the packed tarball), keyed by dependency name. */
  readonly local?: Readonly<Record<string, LockEntry>>;
  /** The registry the repository installed from: tarball addresses are written for it. */
  readonly registry: string;
}

/** Flags that describe the repository's tree (dev, peer), not the consumer's. */
const TREE_FLAGS = ['dev', 'devOptional', 'peer', 'extraneous'];

const nameAt = (location: string): string =>
  location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** The registry's tarball address of `name@version` (`<registry>/<name>/-/<basename>-<version>.tgz`). */
const tarballUrl = (registry: string, name: string, version: string): string =>
  `${registry.replace(/\/$/, '')}/${name}/-/${name.slice(name.indexOf('/') + 1)}-${version}.tgz`;

const parentOf = (location: string): string => {
  const index = location.lastIndexOf('/node_modules/');
  return index === -1 ? '' : location.slice(0, index);
};

/** Where Node finds `name` from a package at `from`: its own node_modules, then each parent's. */
function resolveFrom(lock: RepositoryLock, from: string, name: string): string | undefined {
  for (let dir = from; ; dir = parentOf(dir)) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (dir === '') return undefined;
  }
}

/**
 * Locations a parent's tarball really contains: its `bundleDependencies` and what they depend on,
 * peers excepted. npm may also flag a bundled package's peer `inBundle` when it installed it
 * beside the bundle (aws-cdk-lib 2.252's cloud-assembly-schema): that one must be downloaded.
 */
function bundledLocations(lock: RepositoryLock): Set<string> {
  const bundled = new Set<string>();
  for (const [parent, entry] of Object.entries(lock.packages)) {
    const names = entry.bundleDependencies;
    if (!Array.isArray(names)) continue;
    const pending = (names as string[]).map((name) => resolveFrom(lock, parent, name));
    while (pending.length > 0) {
      const location = pending.pop();
      if (location === undefined || bundled.has(location)) continue;
      if (!location.startsWith(`${parent}/node_modules/`)) continue;
      bundled.add(location);
      const wanted = lock.packages[location];
      for (const name of Object.keys({
        ...wanted?.dependencies,
        ...wanted?.optionalDependencies,
      })) {
        pending.push(resolveFrom(lock, location, name));
      }
    }
  }
  return bundled;
}

export function consumerLock(lock: RepositoryLock, options: ConsumerLockOptions): object {
  const { manifest, base = '' } = options;
  const bundled = bundledLocations(lock);
  const packages: Record<string, LockEntry> = {};
  /** Consumer location → repository location it was copied from. */
  const origin = new Map<string, string>();
  const pending: [from: string, to: string][] = [];

  /** Where a package at the top of the base's or the repository's node_modules goes. */
  const topLevel = (location: string): string | undefined => {
    if (base !== '' && location.startsWith(`${base}/node_modules/`)) {
      const rest = location.slice(base.length + 1);
      return parentOf(rest) === '' ? rest : undefined;
    }
    return parentOf(location) === '' ? location : undefined;
  };

  const place = (from: string, to: string): void => {
    const existing = origin.get(to);
    if (existing !== undefined) {
      if (existing !== from) throw new Error(`${to} is wanted as both ${existing} and ${from}`);
      return;
    }
    origin.set(to, from);
    pending.push([from, to]);
  };

  const direct = { ...manifest.dependencies, ...manifest.devDependencies };
  for (const name of Object.keys(direct)) {
    const local = options.local?.[name];
    if (local) {
      packages[`node_modules/${name}`] = local;
      continue;
    }
    const found = resolveFrom(lock, base, name);
    if (!found) throw new Error(`the repository lock has no ${name}`);
    place(found, `node_modules/${name}`);
  }
  // A local package's dependencies are the repository's own: they resolve from the top.
  for (const [name, entry] of Object.entries(options.local ?? {})) {
    for (const dependency of Object.keys(entry.dependencies ?? {})) {
      if (dependency in direct) continue;
      const found = resolveFrom(lock, base, dependency);
      if (!found) throw new Error(`${name} needs ${dependency}, which the repository lock lacks`);
      place(found, `node_modules/${dependency}`);
    }
  }

  while (pending.length > 0) {
    const [from, to] = pending.pop() as [string, string];
    if (!lock.packages[from]) throw new Error(`the repository lock has no ${from}`);
    const inside = (location: string): boolean =>
      location === from || location.startsWith(`${from}/node_modules/`);
    for (const [location, entry] of Object.entries(lock.packages)) {
      if (!inside(location)) continue;
      const copy: Record<string, unknown> = { ...entry };
      for (const flag of TREE_FLAGS) delete copy[flag];
      const inBundle = bundled.has(location);
      if (!inBundle) delete copy.inBundle;
      if (!inBundle && !entry.link && entry.resolved === undefined && entry.version) {
        copy.resolved = tarballUrl(options.registry, entry.name ?? nameAt(location), entry.version);
      }
      packages[to + location.slice(from.length)] = copy as LockEntry;
      // Packages bundled in a parent's tarball come with it; their dependencies are bundled too.
      if (inBundle) continue;
      for (const dependency of Object.keys({
        ...entry.dependencies,
        ...entry.optionalDependencies,
      })) {
        const found = resolveFrom(lock, location, dependency);
        if (!found) {
          // An optional platform package the lock does not list is skipped by npm as well.
          if (dependency in (entry.optionalDependencies ?? {})) continue;
          throw new Error(`${location} needs ${dependency}, which the repository lock lacks`);
        }
        if (inside(found)) continue;
        const target = topLevel(found);
        if (target === undefined) {
          throw new Error(
            `${location} resolves ${dependency} to ${found}, outside the copied tree`,
          );
        }
        place(found, target);
      }
    }
  }

  return {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: manifest.name,
        version: manifest.version,
        ...(manifest.dependencies ? { dependencies: manifest.dependencies } : {}),
        ...(manifest.devDependencies ? { devDependencies: manifest.devDependencies } : {}),
      },
      ...Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b))),
    },
  };
}
