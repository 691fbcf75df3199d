// Adds to package-lock.json the optional platform packages (other OSes and CPUs) that npm left out
// when the registry it installed from did not list them. Without the entries `npm ci` calls the
// lock out of sync; with them it checks os/cpu, skips them on Linux x64 and fetches nothing.
// Every entry it writes, and any other registry entry that lacks one, gets the `integrity` the
// registry publishes for that version (`npm view <name>@<version> dist.integrity`), so `npm ci`
// on macOS, Windows or Linux arm64 verifies the native binaries it downloads like any other
// package. A version the registry does not know is reported and the script fails.
// Run after `npm install` changes the lock: `node scripts/complete-lockfile.mjs`.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const OS = [
  'android',
  'darwin',
  'win32',
  'linux',
  'freebsd',
  'openharmony',
  'sunos',
  'aix',
  'netbsd',
  'openbsd',
];
const CPU = {
  arm64: 'arm64',
  x64: 'x64',
  ia32: 'ia32',
  arm: 'arm',
  ppc64: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
};

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((token) => OS.includes(token));
  const cpu = tokens.map((token) => CPU[token]).find(Boolean);
  if (!os || !cpu) return undefined;
  const libc =
    os !== 'linux' ? undefined : tokens.some((t) => t.startsWith('musl')) ? 'musl' : 'glibc';
  return { os, cpu, libc };
}

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const added = [];
for (const [location, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    const nested = `${location}/node_modules/${name}`;
    if (lock.packages[key] || lock.packages[nested]) continue;
    const platform = platformOf(name);
    if (!platform) continue;
    lock.packages[key] = {
      version,
      cpu: [platform.cpu],
      ...(entry.dev ? { dev: true } : {}),
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added.push(`${name}@${version}`);
  }
}
/** The registry's integrity of one published version, through npm itself (its registry and auth). */
async function publishedIntegrity(name, version) {
  const { stdout } = await promisify(execFile)(
    'npm',
    ['view', `${name}@${version}`, 'dist.integrity', '--json'],
    { shell: process.platform === 'win32' },
  );
  const integrity = stdout.trim() ? JSON.parse(stdout) : undefined;
  if (typeof integrity !== 'string') throw new Error(`the registry has no ${name}@${version}`);
  return integrity;
}

/** Registry packages without integrity: not links, workspaces or files bundled in a parent's tarball. */
const unverified = Object.entries(lock.packages).filter(
  ([location, entry]) =>
    location.includes('node_modules/') &&
    !entry.integrity &&
    !entry.inBundle &&
    !entry.link &&
    entry.version &&
    !entry.resolved?.startsWith('file:'),
);
const failures = [];
for (let i = 0; i < unverified.length; i += 8) {
  await Promise.all(
    unverified.slice(i, i + 8).map(async ([location, entry]) => {
      const name = entry.name ?? location.slice(location.lastIndexOf('node_modules/') + 13);
      try {
        entry.integrity = await publishedIntegrity(name, entry.version);
      } catch (error) {
        failures.push(`${location}: ${error.message.split('\n')[0]}`);
      }
    }),
  );
}

lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a.localeCompare(b),
  ),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length
    ? `added ${added.length} platform entries: ${added.join(', ')}`
    : 'no platform entry was missing',
);
console.log(`integrity added to ${unverified.length - failures.length} entries`);
if (failures.length) {
  console.error(`no published integrity for:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}
