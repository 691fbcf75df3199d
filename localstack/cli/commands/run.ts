import type { Command } from 'commander';
import { type RunOptions, runBatch } from '../run/run-batch';

/**
 * `driverless run <entry> --file <path>` or `--stream <name> --from <time>`: a handler's
 * pipeline over a file or a stream's time range, with the stream's semantics.
 */
export function register(program: Command): void {
  program
    .command('run')
    .description(
      "run a handler's pipeline over a file or a stream's time range, in micro-batches with the stream's semantics",
    )
    .argument('<entry>', 'handler module: a .ts file exporting handler (e.g. functions/orders.ts)')
    .option(
      '--file <path>',
      'NDJSON of records or of saved Kinesis events (.gz by extension or content)',
    )
    .option('--stream <name>', 'backfill from this Kinesis stream instead of a file')
    .option('--from <time>', 'with --stream: start, ISO-8601 or relative (-15m, -2h, -7d)')
    .option(
      '--to <time>',
      'with --stream: end, ISO-8601 or relative (default: the tip of each shard)',
    )
    .option(
      '--endpoint <url>',
      'with --stream: Kinesis endpoint (default AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, .driverless/local.json, then AWS)',
    )
    .option('--batch-size <n>', 'records per invocation, 1-10000', '500')
    .option(
      '--tumbling-window <seconds>',
      "send window events as a mapping with TumblingWindowInSeconds <seconds> would, 1-900 (runs the handler's window, onClose included)",
    )
    .option('--jobs <jobs>', 'jobs to run: a,b runs those, !a all but a (sets DRIVERLESS_JOBS)')
    .option(
      '--dead-letters <path>',
      'NDJSON file dead letters are appended to (default <file>.dead-letters.ndjson)',
    )
    .option('--allow-dead-letters', 'exit 0 even if records were dead-lettered')
    .option(
      '--ignore-cursors',
      'hand every job every record, even behind its per-job cursor (rebuild after a fix; writes must be idempotent)',
    )
    .option('--json', 'also print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
File format: one JSON object per line, either a record
  {"data": <any JSON, or a string taken as raw text>, "partitionKey"?: "...",
   "sequenceNumber"?: "<digits>", "arrivedAt"?: "<ISO-8601>"}
or a saved Kinesis event {"Records": [...]} (invoked as saved). Records are grouped
--batch-size at a time on shard shardId-000000000000 of stream <file name>, with
increasing 56-digit sequence numbers when none are given.

Semantics: the handler is invoked as Lambda would invoke it; a partial batch response
is retried from the record it names, 3 attempts in all; records still failing are
counted failed. Dead letters go to a local NDJSON file (DRIVERLESS_DEAD_LETTER_FILE).
Handler logs go to stderr; stdout carries the summary only.

Exit codes: 0 ok; 1 records failed, or were dead-lettered without --allow-dead-letters;
2 bad usage or input (missing file, bad line, unknown job, bad time, unreachable endpoint).

Examples:
  $ npx driverless run functions/orders.ts --file orders.ndjson
  $ npx driverless run functions/product-views.ts --file views.ndjson.gz --batch-size 100 --jobs popularity
  $ npx driverless run functions/orders.ts --file saved-events.ndjson --allow-dead-letters --json
  $ npx driverless run functions/product-views.ts --stream product-views --from -2h
  $ npx driverless run functions/orders.ts --stream orders --from 2026-11-23T08:00:00Z --to 2026-11-23T09:00:00Z --endpoint http://127.0.0.1:4567`,
    )
    .action(async (entry: string, options: RunOptions) => {
      process.exitCode = await runBatch(entry, options);
    });
}
