import type { Command } from 'commander';
import { type BackfillCommandOptions, runBackfillCommand } from '../backfill/run-backfill';

/**
 * `driverless backfill --source <name> --from <time> [--to <time>]` or `--archive s3://…`: history
 * processed in the cloud by the source's own deployed functions, slice by slice, resumable.
 */
export function register(program: Command): void {
  const command = program.command('backfill');
  command
    .description(
      "reprocess a stream's time range or its S3 archive in the source's deployed functions, in parallel slices; resumable",
    )
    .requiredOption(
      '--source <name>',
      'the source (DRIVERLESS_SOURCE) whose functions process the records',
    )
    .option(
      '--from <time>',
      'stream range start: ISO-8601 or relative (-15m, -2h, -7d); with --archive, skips older hours',
    )
    .option(
      '--to <time>',
      'stream range end, exclusive (default: now); with --archive, skips later hours',
    )
    .option(
      '--archive <url>',
      'read archive objects under s3://bucket/prefix instead of the stream',
    )
    .option('--version <n>', 'invoke this published version instead of the live alias')
    .option(
      '--concurrency <n>',
      'invocations at once, at most what concurrencyBudget leaves (default: that, up to 10)',
    )
    .option(
      '--concurrency-budget <n>',
      'concurrency left to backfills, when the functions do not say (DRIVERLESS_BACKFILL_CONCURRENCY)',
    )
    .option(
      '--slices-per-shard <n>',
      'time slices read at once per shard (default: concurrency / shards, up to 4; 1 on the embedded stack)',
    )
    .option('--batch-size <n>', 'records per batch, 1-10000', '500')
    .option(
      '--retries <n>',
      'failed invocations of a slice in a row before it is failed, 0-10',
      '2',
    )
    .option(
      '--ignore-cursors',
      "hand every job every record, even behind the backfill's cursors (writes must be idempotent)",
    )
    .option('--resume', 'continue the unfinished backfill of the source where it stopped')
    .option('--restart', 'abandon the unfinished backfill of the source and plan a new one')
    .option('--dry-run', 'list the slices and their sizes; invoke nothing')
    .option('--allow-dead-letters', 'exit 0 even if records were dead-lettered')
    .option('--json', 'also print the summary as one JSON object on the last line of stdout')
    .option(
      '--endpoint-file <path>',
      'endpoints of a local stack (default .driverless/local.json when present, else AWS_ENDPOINT_URL_* / AWS)',
    )
    .addHelpText(
      'after',
      `
How it runs: the CLI plans slices and invokes the source's functions (the live alias, or
--version) with a backfill event; each invocation reads its slice itself (GetRecords from an
AT_TIMESTAMP iterator, or archive objects line by line), runs the records through the same
decode, stages, jobs, dead letters and per-job cursors as a stream batch, and stops before its
deadline with a continuation the CLI invokes again. Records never pass through this machine.
Every function of the source (the main one and each isolated job's) processes every slice.

Slices: every shard of the stream, cut into --slices-per-shard spans of arrival time; a child
shard's slices start after its parents' slices end. Parts of one shard run at once, so per-key
order holds within a part, not across parts (use --slices-per-shard 1 to keep it). Archive
objects (NDJSON, one record per line, gzipped or not; the layout of the pipeline's archive
option) are grouped in key order, and each object is a shard of its own: its key is the batches'
shardId, its line numbers their sequence numbers.

Progress: kept in the pipeline's checkpoint table (checkpoints: true) after every invocation.
After Ctrl-C, a crash or failed slices, --resume continues: a slice restarts from its last saved
continuation, and the backfill's own per-job cursors skip every batch a job already committed,
so no slice's effects are applied twice. A slice whose invocation may still be running (its
function's timeout not yet over) is resumed only after that time.

Exit codes: 0 ok; 1 records failed, slices failed, records were dead-lettered without
--allow-dead-letters, or interrupted (--resume continues); 2 bad usage or input.

Examples:
  $ driverless backfill --source orders --from 2026-11-16T00:00:00Z --to 2026-11-23T00:00:00Z
  $ driverless backfill --source productViews --from -2d --concurrency 40 --dry-run
  $ driverless backfill --source productViews --archive s3://retail-archive/records/productViews/2026/
  $ driverless backfill --source productViews --resume`,
    )
    .action(async (options: BackfillCommandOptions) => {
      const output = command.configureOutput();
      const stdout = output.writeOut ?? ((text: string) => process.stdout.write(text));
      const stderr = output.writeErr ?? ((text: string) => process.stderr.write(text));
      process.exitCode = await runBackfillCommand(options, {
        stdout: (text) => stdout(text),
        stderr: (text) => stderr(text),
        interactive: process.stderr.isTTY === true,
        onInterrupt: (stop) => {
          let count = 0;
          const handler = () => {
            count += 1;
            if (count === 1) stop();
            // A second Ctrl-C leaves now; the progress table still says where to resume.
            else process.exit(130);
          };
          process.on('SIGINT', handler);
          process.on('SIGTERM', handler);
          return () => {
            process.off('SIGINT', handler);
            process.off('SIGTERM', handler);
          };
        },
      });
    });
}
