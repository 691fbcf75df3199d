import type { Command } from 'commander';
import { runRedrive } from '../redrive/run-redrive';

/**
 * `driverless redrive --source <name> [--job <job>] [--since <time>] [--dry-run] [--json]
 * [--endpoint-file <path>]`: replays dead letters and on-failure records (SQS and S3) through
 * the source's `live` alias and deletes what was recovered.
 */
export function register(program: Command): void {
  const command = program.command('redrive');
  command
    .description(
      "replay a source's dead letters and on-failure records through its live alias; delete what was recovered",
    )
    .requiredOption('--source <name>', 'the source (DRIVERLESS_SOURCE) to redrive')
    .option('--job <job>', 'only the function running this isolated job')
    .option('--since <time>', 'only failures since an ISO-8601 time or a duration (15m, 2h, 7d)')
    .option('--dry-run', 'report what would be replayed; invoke and delete nothing')
    .option('--json', 'print the summary as one JSON line')
    .option(
      '--endpoint-file <path>',
      'endpoints of a local stack (default .driverless/local.json when present, else AWS_ENDPOINT_URL_* / AWS)',
    )
    .addHelpText(
      'after',
      `
Reads: dead letters in the source's queue (payloads too large for SQS from the bucket beside
it) or dead-letter bucket, and the mappings' on-failure records in SQS (records re-read from the
stream while it retains them) or S3 (records from the saved event).

Examples:
  $ driverless redrive --source productViews --dry-run      what would be replayed, changing nothing
  $ driverless redrive --source productViews                replay, then delete what was recovered
  $ driverless redrive --source productViews --job popularity --since 2h --json

Exit codes: 0 all recovered, 1 something still failing or not recoverable, 2 bad input.`,
    )
    .action(
      async (options: {
        source: string;
        job?: string;
        since?: string;
        dryRun?: boolean;
        json?: boolean;
        endpointFile?: string;
      }) => {
        // Through the program's output (process streams by default; tests capture it).
        const output = command.configureOutput();
        const stdout = output.writeOut ?? ((text: string) => process.stdout.write(text));
        const stderr = output.writeErr ?? ((text: string) => process.stderr.write(text));
        process.exitCode = await runRedrive(options, {
          stdout: (text) => stdout(text),
          stderr: (text) => stderr(text),
          interactive: process.stderr.isTTY === true,
          ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
        });
      },
    );
}
