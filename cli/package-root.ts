import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** What the CLI reads from its own package.json. */
export interface PackageManifest {
  readonly name: string;
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
}

/** The package whose root the CLI looks for. */
export const PACKAGE_NAME = 'driverless';

/**
 * The root of the installed `driverless` package: the first directory at or above `from` whose
 * package.json is named `driverless`. Found from this module's own location, never from
 * `process.argv[1]`: npx starts the CLI through a bin symlink in the user's node_modules/.bin, and
 * the module sits at a different depth when run from sources than when compiled to dist/.
 */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readManifest(manifest).name === PACKAGE_NAME) return dir;
    if (dirname(dir) === dir) {
      throw new Error(`no package.json named ${PACKAGE_NAME} at or above ${from}`);
    }
  }
}

/** The `driverless` package's own package.json. */
export function packageManifest(root: string = packageRoot()): PackageManifest {
  return readManifest(join(root, 'package.json'));
}

function readManifest(path: string): PackageManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageManifest;
}
