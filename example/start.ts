import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runDev } from '../cli/dev/run-dev';
import { startRetailProducer } from './producer';

const USAGE = `Runs the example retail pipeline on the embedded local stack (no Docker, no AWS account):
\`driverless dev\` on this repository's app, plus a producer of retail events.

Usage: npm start -- [--records N] [--rate R] [--no-watch] [--engine kinesalite|kinesis-local]

  --records N   send N records, wait until each is processed or dead-lettered, print a summary,
                exit 0 only if every record is accounted for
  --rate R      records per second the demo producer sends (default 200; 0.5 is one every
                2 s; 0 sends none: put your own with driverless put or the AWS CLI)
  --no-watch    do not publish new code when files under functions/, lib/, bin/ change
  --engine E    Kinesis server: kinesalite (fast, default) or kinesis-local (resharding, consumers)
  --timeout S   with --records: give up after S seconds (default 120)`;

/** A bad command line: reported as one line, exit 2, like every usage error of the CLI. */
class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  records: { type: 'string' },
  rate: { type: 'string', default: '200' },
  engine: { type: 'string', default: 'kinesalite' },
  timeout: { type: 'string', default: '120' },
  'no-watch': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

function readArguments() {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    // parseArgs names the unknown option or the missing value; its hint about `--` does not apply.
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

function parseOptions() {
  const values = readArguments();
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const positive = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n <= 0) {
      throw new UsageError(`--${name} must be a positive whole number (given ${text})`);
    }
    return n;
  };
  if (values.engine !== 'kinesalite' && values.engine !== 'kinesis-local') {
    throw new UsageError(`--engine must be kinesalite or kinesis-local (given ${values.engine})`);
  }
  const rate = Number(values.rate);
  if (
    values.rate === undefined ||
    values.rate.trim() === '' ||
    !Number.isFinite(rate) ||
    rate < 0
  ) {
    throw new UsageError(
      `--rate must be a number of records per second, 0 or more (given ${values.rate})`,
    );
  }
  const records = values.records === undefined ? undefined : positive('records', values.records);
  return {
    records,
    rate,
    watch: values['no-watch'] !== true,
    engine: values.engine as 'kinesalite' | 'kinesis-local',
    timeoutSeconds: positive('timeout', values.timeout),
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  return runDev({
    projectDir: resolve(__dirname, '..'),
    command: 'npm start',
    watch: options.watch,
    engine: options.engine,
    timeoutSeconds: options.timeoutSeconds,
    ...(options.records === undefined ? {} : { records: options.records }),
    ...(options.rate === 0
      ? {}
      : {
          traffic: ({ kinesis, app }) => {
            const streams = app.streams;
            const views = streams.find((s) => s.name.includes('view')) ?? streams[0];
            const orders =
              streams.find((s) => s.name.includes('order')) ?? streams[1] ?? streams[0];
            if (!views || !orders) throw new Error('the app has no streams to produce to');
            return startRetailProducer({
              kinesis,
              viewsStream: views.name,
              ordersStream: orders.name,
              ratePerSecond: options.rate,
              ...(options.records === undefined ? {} : { limit: options.records }),
            });
          },
        }),
  });
}

main().then(
  // Servers and functions are stopped: exit once stdout has drained.
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`npm start: ${error.message} (npm start -- --help shows the options)`);
      process.exit(2);
    }
    console.error(`npm start failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
