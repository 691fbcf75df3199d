import { relative } from 'node:path';
import type { Command } from 'commander';
import { type NewOptions, scaffold, TEMPLATES } from '../new/scaffold';

/** `driverless new <name> --template json|multi-job|window|aggregate`: a function and its test from a template. */
export function register(program: Command): void {
  program
    .command('new')
    .description(
      'create functions/<name>.ts and its unit test from a template, and wire or print its source entry',
    )
    .argument('<name>', 'kebab-case name of the function and its stream (e.g. click-counts)')
    .requiredOption('--template <template>', `template: ${Object.keys(TEMPLATES).join(' | ')}`)
    .option(
      '--wire',
      "add the source to the MicroBatchPipeline's sources (found through cdk.json's app, else in lib/)",
    )
    .option('--stack <file>', 'with --wire: the file holding the MicroBatchPipeline')
    .option('--force', 'overwrite existing files')
    .option('--dir <path>', 'project root (default: the current directory)')
    .option('--json', 'print what was created as one JSON line')
    .addHelpText(
      'after',
      `
Templates:
  json       JSON records -> one DynamoDB item each (TABLE_NAME)
  multi-job  one shared stage read by two concurrent jobs (TABLE_NAME, QUEUE_URL)
  window     tumbling-window aggregation written once per window (TABLE_NAME)
  aggregate  keyed event-time windows across shards, each emitted once (TABLE_NAME; state: true)

Writes functions/<name>.ts and test/unit/<name>.test.ts (a jest test that needs only the
public driverless/runtime API); refuses to overwrite without --force. Without --wire, prints
the entry to add to MicroBatchPipeline's sources. --wire finds the one file of the CDK app
(cdk.json's app and what it imports) with new MicroBatchPipeline(...), or takes --stack;
if it cannot add the source, nothing is written.

Exit codes: 0 created; 2 bad name or template, files exist, no pipeline to wire.

Examples:
  $ npx driverless new product-catalog --template json
  $ npx driverless new order-totals --template multi-job --wire
  $ npx driverless new sales-per-store --template window --wire --stack lib/sales-stack.ts
  $ npx driverless new sales-per-store --template window --force
  $ npx driverless new store-sales --template aggregate --wire`,
    )
    .action(async (name: string, options: NewOptions & { json?: boolean }) => {
      const result = await scaffold(name, options);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const cwd = process.cwd();
      process.stdout.write(
        `created ${relative(cwd, result.handler)}\ncreated ${relative(cwd, result.test)}\n`,
      );
      process.stdout.write(
        result.wired
          ? `added the source to ${relative(cwd, result.wired)}:\n${result.sourceEntry}\n`
          : `add this source to your MicroBatchPipeline's sources:\n${result.sourceEntry}\n`,
      );
      process.stdout.write(
        `still to do:\n${result.remaining.map((line) => `  - ${line}`).join('\n')}\n`,
      );
      process.stdout.write(`try it:\n${result.tryIt.map((line) => `  ${line}`).join('\n')}\n`);
    });
}
