/** A JSON value, as written to `bench/results/latest.json` and printed with `--json`. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** How a scenario should run: full size, or `quick` (tiny sizes, few runs) for a smoke test. */
export interface ScenarioOptions {
  /** Tiny sizes and few runs: checks that the scenario works, measures nothing worth keeping. */
  readonly quick: boolean;
  /** Measured runs, overriding the scenario's default (`--runs`). */
  readonly runs?: number;
  /** Warm-up runs, overriding the scenario's default (`--warmup`). */
  readonly warmupRuns?: number;
  /** Progress lines for a human; the runner writes them to stderr. */
  readonly progress: (message: string) => void;
}

/** A table a scenario prints: one header row, then rows of already formatted cells. */
export interface Table {
  readonly headers: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** What a scenario hands back to the runner. */
export interface ScenarioOutput {
  /** The scenario's entry in the `--json` object (the headline numbers only). */
  readonly summary: { readonly [key: string]: JsonValue };
  /** Everything worth keeping: medians, min–max, runs, ratios, sizes. Goes to latest.json. */
  readonly detail: { readonly [key: string]: JsonValue };
  readonly table: Table;
  /** Lines printed under the table (goals met or missed, caveats). */
  readonly notes: readonly string[];
  /** SVG charts by file name, written under `bench/results/`. */
  readonly charts: { readonly [fileName: string]: string };
}

/** One benchmark scenario: one module under `bench/scenarios/`, registered in `scenarios/index.ts`. */
export interface Scenario {
  /** The name given on the command line (`npm run bench -- <name>`) and the key in the results. */
  readonly name: string;
  readonly description: string;
  readonly run: (options: ScenarioOptions) => Promise<ScenarioOutput>;
}
