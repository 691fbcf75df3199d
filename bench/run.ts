// `npm run bench [-- <scenario>...] [--json] [--quick] [--runs N] [--warmup N]`
// Runs the named scenarios (all when none is named), prints a table per scenario, writes
// bench/results/latest.json and the SVG charts, and with --json prints the headline numbers as
// one JSON object on the last line of stdout. Progress goes to stderr.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { requireEsmOnlyPackages } from './require-esm-only';
import type { JsonValue, Scenario } from './scenario';
import { formatTable } from './table';

requireEsmOnlyPackages();
// Loaded after the hook above: the scenarios import the runtime, which imports middy.
const { SCENARIOS } = require('./scenarios') as typeof import('./scenarios');

const RESULTS_DIR = join(__dirname, 'results');
const LATEST = join(RESULTS_DIR, 'latest.json');

const USAGE = `usage: npm run bench [-- <scenario>...] [--json] [--quick] [--runs N] [--warmup N]
scenarios: ${SCENARIOS.map((scenario) => `${scenario.name} (${scenario.description})`).join('\n           ')}
--json     print the results object as the last line of stdout
--quick    tiny sizes and few runs (smoke test); results are not written
--runs N   measured runs per scenario; --warmup N: warm-up runs`;

function positiveInteger(
  flag: string,
  text: string | undefined,
  minimum: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < minimum) {
    throw new RangeError(`--${flag} must be an integer ≥ ${minimum} (given ${text})`);
  }
  return value;
}

function select(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((name) => {
    const scenario = SCENARIOS.find((known) => known.name === name);
    if (!scenario) {
      throw new RangeError(
        `unknown scenario "${name}"; known scenarios: ${SCENARIOS.map((known) => known.name).join(', ')}`,
      );
    }
    return scenario;
  });
}

/** Results of earlier runs are kept, so running one scenario refreshes only its entry. */
function readLatest(): Record<string, JsonValue> {
  if (!existsSync(LATEST)) return {};
  const parsed: unknown = JSON.parse(readFileSync(LATEST, 'utf8'));
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, JsonValue>)
    : {};
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const scenarios = select(positionals);
  const runs = positiveInteger('runs', values.runs, 1);
  const warmupRuns = positiveInteger('warmup', values.warmup, 0);
  const progress = (message: string) => process.stderr.write(`${message}\n`);

  const summary: Record<string, JsonValue> = {};
  const latest = readLatest();
  for (const scenario of scenarios) {
    progress(`${scenario.name}: ${scenario.description}`);
    const output = await scenario.run({
      quick: values.quick,
      progress,
      ...(runs === undefined ? {} : { runs }),
      ...(warmupRuns === undefined ? {} : { warmupRuns }),
    });
    summary[scenario.name] = output.summary;
    latest[scenario.name] = { summary: output.summary, ...output.detail };
    process.stdout.write(
      `\n${scenario.name}\n${formatTable(output.table)}\n${output.notes.map((note) => `  ${note}`).join('\n')}\n`,
    );
    if (!values.quick) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      for (const [file, svg] of Object.entries(output.charts)) {
        writeFileSync(join(RESULTS_DIR, file), svg);
        progress(`wrote bench/results/${file}`);
      }
    }
  }
  if (values.quick) {
    progress('quick run: bench/results/ left unchanged');
  } else {
    writeFileSync(LATEST, `${JSON.stringify(latest, null, 2)}\n`);
    progress('wrote bench/results/latest.json');
  }
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
