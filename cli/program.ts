import { Command, CommanderError } from 'commander';
import manifest from '../package.json';
import { CliError, EXIT_USAGE, oneLine } from './cli-error';
import { register as registerBackfill } from './commands/backfill';
import { register as registerDev } from './commands/dev';
import { register as registerInit } from './commands/init';
import { register as registerNew } from './commands/new';
import { register as registerPut } from './commands/put';
import { register as registerRedrive } from './commands/redrive';
import { register as registerRun } from './commands/run';

/** Where commands write; tests pass their own to capture output. */
export interface ProgramOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/**
 * Builds the `driverless` program: every command registered from `./commands/*`, commander
 * usage errors turned into exit 2 (they throw instead of exiting, see {@link runProgram}).
 */
export function buildProgram(output?: ProgramOutput): Command {
  const program = new Command();
  program
    .name('driverless')
    .description(
      'Driverless: create pipeline projects, run them locally, put records, run handlers over files and streams, scaffold functions, redrive failures',
    )
    .version(manifest.version, '-V, --version', 'print the version')
    .showSuggestionAfterError(true)
    .exitOverride();
  if (output) {
    program.configureOutput({ writeOut: output.stdout, writeErr: output.stderr });
  }
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 the work failed (records dead-lettered or failed), 2 bad usage or input.

Examples:
  $ npx driverless init click-pipeline
  $ npx driverless dev
  $ npx driverless run functions/orders.ts --file orders.ndjson.gz
  $ npx driverless run functions/orders.ts --stream orders --from -2h
  $ npx driverless new click-counts --template window
  $ npx driverless redrive --source orders --dry-run
  $ npx driverless put --stream orders --file orders.ndjson --records 100
  $ npx driverless help run`,
  );
  registerInit(program);
  registerDev(program);
  registerRun(program);
  registerNew(program);
  registerRedrive(program);
  registerPut(program);
  registerBackfill(program);
  // Subcommands inherit exitOverride and output only when set before they are created, so set
  // them on every command after registration.
  for (const command of program.commands) {
    command.exitOverride();
    if (output) {
      command.configureOutput({ writeOut: output.stdout, writeErr: output.stderr });
    }
  }
  return program;
}

/**
 * Runs the program over `argv` (user arguments only, without node and script) and returns the
 * exit code. Errors become one line on stderr: `driverless[ <command>]: <what to fix>`.
 */
export async function runProgram(argv: readonly string[], output?: ProgramOutput): Promise<number> {
  const stderr = output?.stderr ?? ((text: string) => process.stderr.write(text));
  const program = buildProgram(output);
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" exit 0; commander already printed the usage error line.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    const command = program.args[0];
    const prefix =
      command && program.commands.some((c) => c.name() === command)
        ? `driverless ${command}`
        : 'driverless';
    if (error instanceof CliError) {
      stderr(`${prefix}: ${oneLine(error)}\n`);
      return error.exitCode;
    }
    stderr(`${prefix}: ${oneLine(error)}\n`);
    return 1;
  }
}
