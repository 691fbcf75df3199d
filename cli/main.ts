/** Entry of the `driverless` CLI: compiled to dist/cli.cjs (the package bin); bin/driverless.mjs runs it from sources. */
import { runProgram } from './program';

runProgram(process.argv.slice(2)).then(
  (code) => {
    // A handler's SDK clients may keep sockets open: exit once stdout has drained.
    process.stdout.write('', () => process.exit(code));
  },
  (error: unknown) => {
    process.stderr.write(`driverless: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
