import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { versionOf } from '../../../cli/init/project-files';
import { packageRoot } from '../../../cli/package-root';

const manifest = {
  name: 'driverless',
  version: '1.2.3',
  dependencies: { zod: '4.6.7' },
  devDependencies: { 'aws-cdk-lib': '2.276.0' },
  peerDependencies: { 'aws-cdk-lib': '^2.200.0', constructs: '^10.0.0' },
};

describe('versionOf', () => {
  it("prefixes the package's own pinned version, preferring devDependencies over the peer range", () => {
    // When / Then
    expect([
      versionOf(manifest, 'aws-cdk-lib', '^'),
      versionOf(manifest, 'zod', '~'),
    ]).toStrictEqual(['^2.276.0', '~4.6.7']);
  });

  it('takes the peer range as it is when nothing pins the package', () => {
    // When / Then
    expect(versionOf(manifest, 'constructs', '^')).toBe('^10.0.0');
  });

  it('fails if the manifest names no version of the package', () => {
    // When / Then
    expect(() => versionOf(manifest, 'jest', '^')).toThrow(
      'the driverless package names no version of jest',
    );
  });
});

describe('packageRoot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'package-root-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('walks up past package.json files of other names to the driverless one', () => {
    // Given: a compiled CLI at dist/cli/init inside the package, with a nested manifest
    const from = join(dir, 'dist', 'cli', 'init');
    mkdirSync(from, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'driverless' }));
    writeFileSync(join(dir, 'dist', 'package.json'), JSON.stringify({ type: 'commonjs' }));

    // When / Then
    expect(packageRoot(from)).toBe(dir);
  });
});
