import type { Command } from 'commander';
import type { PutOptions } from '../put/put';

/**
 * `driverless put --stream <name> --file <ndjson[.gz]>` or `--generate <module>`: records onto a
 * stream, paced, and with `--records N` followed until every mapping of the stream is done.
 */
export function register(program: Command): void {
  program
    .command('put')
    .description(
      'put records on a stream from a file or a generator, paced; with --records N, wait until every mapping processed each',
    )
    .option('--stream <name>', 'the stream: its name, or its logical id in .driverless/local.json')
    .option(
      '--file <path>',
      'NDJSON records in the format `driverless run` reads (.gz by extension or content)',
    )
    .option(
      '--generate <module>',
      'a .ts/.js module whose default export makes records (see below)',
    )
    .option(
      '--records <n>',
      'send n records (the first n of --file), then wait until each is processed, filtered or discarded',
    )
    .option('--wait', 'wait as --records does, for every record of --file')
    .option(
      '--rate <r>',
      'records per second, any positive number (0.5 = one every 2 s); default: as fast as Kinesis takes them',
    )
    .option(
      '--partition-key <field>',
      "take each record's partition key from this field of its JSON data (a.b: nested); default: the line's partitionKey, else the record's number",
    )
    .option(
      '--endpoint <url>',
      'Kinesis endpoint (default AWS_ENDPOINT_URL_KINESIS, AWS_ENDPOINT_URL, .driverless/local.json, then AWS)',
    )
    .option(
      '--timeout <seconds>',
      'with --records or --wait: give up waiting after this long',
      '120',
    )
    .option('--json', 'also print the summary as one JSON object on the last line of stdout')
    .addHelpText(
      'after',
      `
File format: as \`driverless run\` reads it, one JSON object per line, a record
  {"data": <any JSON, or a string taken as raw text>, "partitionKey"?: "..."}
or a saved Kinesis event {"Records": [...]} whose records are put again. The file is read
whole before the first put: a bad line exits 2 with nothing sent.

Generator (--generate <module>): the module's default export (or its export "generate") is
  a function of the record's index:  export default (n: number) => ({ storeId: \`s\${n % 10}\` })
  or a generator function:           export default async function* () { yield { ... } }
Its values are the records' data (JSON; a string or Uint8Array as raw bytes). A function
returning undefined, or a generator ending, ends the records; without --records they are
made until then, or until Ctrl-C.

Waiting (--records, --wait): on the embedded stack (npm start, driverless dev), put follows
each record until every enabled mapping of the stream has processed it (records the handler
dead-letters count as processed), filtered it out or discarded it. On AWS it only puts: a
producer cannot see what a mapping did with its record.

Exit codes: 0 every record put (and, when waiting, accounted for by every mapping, none
discarded); 1 records not put, not accounted for by --timeout, discarded, or stopped;
2 bad usage or input (no such stream, unreachable endpoint, bad line, bad module).

Examples:
  $ npx driverless put --stream orders --file example/samples/orders.ndjson --records 100
  $ npx driverless put --stream sales --file sales.ndjson.gz --rate 50 --partition-key storeId --wait
  $ npx driverless put --stream clicks --generate scripts/clicks.ts --rate 0.5
  $ npx driverless put --stream clicks --generate scripts/clicks.ts --records 10000 --json`,
    )
    .action(async (options: PutOptions) => {
      // Loaded when used: its SDK clients cost every other command's start-up. From sources
      // (bin/driverless.mjs) it must also load after the emulator's module, which `run` imports
      // first: loaded before it, an SDK client's import makes tsx load emulator files as ES
      // modules, where their __dirname is undefined.
      const { runPut } = await import('../put/put');
      process.exitCode = await runPut(options);
    });
}
