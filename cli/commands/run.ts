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
Handler logs go to stderr; stdout carries the summary only. AWS_REGION and
AWS_LAMBDA_FUNCTION_NAME (<entry> without extension) are set as Lambda sets them, and
test credentials when every AWS_ENDPOINT_URL* points at this machine and none are set.

Per-job cursors (DRIVERLESS_CHECKPOINT_TABLE): a job is handed only records past its
cursor, so a second run over the same records hands it nothing. --ignore-cursors marks
every invocation as a replay (as redrive does): every job sees every record again.

Tumbling windows (--tumbling-window <seconds>): per shard, records are cut into batches
that never cross a window, aligned on arrival time (arrivedAt, or the stream's
ApproximateArrivalTimestamp; a file's records without arrivedAt arrive now). Each
invocation carries window, state (what the last one returned, also on a retry),
shardId, eventSourceARN and the flags; each window gets a final invocation with no
records (onClose runs) when its shard's next window starts or the input ends, or early
(isWindowTerminatedEarly) when its state passes 1 MB. A final invocation failing 3 times
counts the window failed. Saved events are re-batched by the shard of their eventID and
their own window keys are dropped; without --tumbling-window they are invoked as saved,
window keys included (a response must then carry state).

Stateful jobs (aggregate, dedupe, join): their state is kept in memory for the run
(DRIVERLESS_STATE_TABLE=memory:, unless the variable names a table). After the last
record, the handler gets one final tick {"driverless":"tick","source":<DRIVERLESS_SOURCE
or the entry's name>,"time":<now>,"final":true}: the input is over, every open window is
emitted. It is not counted as a batch or an invocation; a handler without stateful jobs
answers it and nothing changes. If it still fails after 3 attempts, the run exits 1.

Input is checked before the first invocation: the file is read whole (every line, a gzip
to its end; a record over Kinesis's 1 MiB with its partition key, or a saved record Lambda
could not have sent, is refused), the stream's shards are listed and the dead-letter file
is opened for appending. If the input still breaks during the run (the file changed), the
summary of what ran is printed and the error line says where it stopped.

Exit codes: 0 ok; 1 records failed, a window's final invocation or the final tick failed, or records were
dead-lettered without --allow-dead-letters; 2 bad usage or input (missing, truncated or
corrupt file, bad line, unwritable dead-letter file, unknown job, bad time or window,
unreachable endpoint).

Examples:
  $ npx driverless run functions/orders.ts --file orders.ndjson
  $ npx driverless run functions/product-views.ts --file views.ndjson.gz --batch-size 100 --jobs popularity
  $ npx driverless run functions/orders.ts --file saved-events.ndjson --allow-dead-letters --json
  $ npx driverless run functions/sales-per-window.ts --file sales.ndjson --tumbling-window 300
  $ npx driverless run functions/orders.ts --file orders.ndjson --ignore-cursors --jobs recommendations
  $ npx driverless run functions/product-views.ts --stream product-views --from -2h
  $ npx driverless run functions/orders.ts --stream orders --from 2026-11-23T08:00:00Z --to 2026-11-23T09:00:00Z --endpoint http://127.0.0.1:4567`,
    )
    .action(async (entry: string, options: RunOptions) => {
      process.exitCode = await runBatch(entry, options);
    });
}
