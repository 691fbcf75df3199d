import { type Command, InvalidArgumentError } from 'commander';
import { fail } from '../cli-error';
import { runDev } from '../dev/run-dev';

/** `-c key=value`, repeatable, as `cdk synth -c` takes it. */
function contextPair(value: string, previous: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value (given ${value})`);
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) };
}

function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) {
      throw new InvalidArgumentError(`--${name} must be a positive whole number (given ${value})`);
    }
    return n;
  };
}

/**
 * `driverless dev [--stack <name>...] [-c key=value...] [--no-watch] [--records N]`: the user's
 * CDK app on the embedded local stack, with a live view and code published on every change.
 */
export function register(program: Command): void {
  program
    .command('dev')
    .description(
      'run your CDK app on an embedded local AWS stack (no Docker, no account): live view, new code published on save',
    )
    .option(
      '--stack <name>',
      'run this stack (repeatable; default every stack of the app)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '-c, --context <key=value>',
      'context for the synth, over cdk.json (repeatable)',
      contextPair,
      {},
    )
    .option('--no-watch', 'do not re-synthesize and publish code when files change')
    .option(
      '--engine <engine>',
      'Kinesis server: kinesalite (fast) or kinesis-local (resharding, consumers)',
      'kinesalite',
    )
    .option(
      '--records <n>',
      'wait for N records to be put on the streams (by anyone), then until each is processed or dead-lettered; exit 0 only if all are',
      positiveInteger('records'),
    )
    .option(
      '--timeout <seconds>',
      'with --records: give up after this long',
      positiveInteger('timeout'),
      120,
    )
    .option(
      '--tick <seconds>',
      'fire scheduled rules (the ticks that close stateful windows on quiet streams) this often instead of at their own rate',
      positiveInteger('tick'),
      5,
    )
    .option(
      '--state-file <path>',
      'where endpoints and names are written for the AWS CLI, run and redrive (mode 0600, removed on exit)',
      '.driverless/local.json',
    )
    .addHelpText(
      'after',
      `
Synthesizes the app as \`cdk synth\` does (cdk.json "app", its context, cdk.context.json,
-c values; no AWS credentials, offline), starts its streams, tables, queues, buckets,
functions and event source mappings on servers on this machine, and shows what each
source does. Put records with \`driverless put\`, the AWS CLI or your own code: the
endpoints are in the state file.

Watch mode (default): a change to a file cdk.json's "watch" section includes re-runs the
synth. Functions whose code changed get a new version and their live alias moves to it,
as a deployment does: mappings keep polling, nothing is lost. Changes to resources are
listed with what needs a restart.

Two sessions in one project need two state files: --state-file .driverless/other.json.

Exit codes: 0 stopped, or --records all accounted for; 1 records missing at --timeout, or
the app could not start; 2 bad usage; 130/143 stopped by SIGINT/SIGTERM.

Examples:
  $ npx driverless dev
  $ npx driverless dev --stack OrdersStack -c stage=dev
  $ npx driverless dev --no-watch --records 1000 --timeout 60`,
    )
    .action(
      async (options: {
        stack?: string[];
        context: Record<string, string>;
        watch: boolean;
        engine: string;
        records?: number;
        timeout: number;
        tick: number;
        stateFile: string;
      }) => {
        if (options.engine !== 'kinesalite' && options.engine !== 'kinesis-local') {
          fail(`--engine must be kinesalite or kinesis-local (given ${options.engine})`);
        }
        process.exitCode = await runDev({
          projectDir: process.cwd(),
          ...(options.stack === undefined ? {} : { stacks: options.stack }),
          context: options.context,
          watch: options.watch,
          engine: options.engine,
          ...(options.records === undefined ? {} : { records: options.records }),
          timeoutSeconds: options.timeout,
          tickSeconds: options.tick,
          stateFile: options.stateFile,
        });
      },
    );
}
