import { fail } from '../cli-error';
import { importBundled } from '../run/load-handler';
import { isSchema, schemaGenerator } from './schema-generator';

/**
 * The data of one record a generator makes: a string is sent as its UTF-8 text, a `Uint8Array` as
 * its bytes, anything else as its JSON (as a `driverless run` file's `data`).
 */
export type GeneratedData = unknown;

/**
 * What a module given to `driverless put --generate <module>` exports as `default` (or as
 * `generate`), in one of two forms:
 * - a function of the record's index (0, 1, 2, …) returning its data, or a promise of it;
 *   `undefined` ends the records early:
 *   `export default (n: number) => ({ storeId: \`s${n % 10}\`, amountCents: 100 + n })`
 * - a generator function, sync or async, called once and iterated; its end ends the records:
 *   `export default async function* () { for (const line of lines) yield JSON.parse(line) }`
 *
 * Without `--records`, records are made until the generator ends or the command is stopped.
 */
export type RecordGenerator =
  | ((index: number) => GeneratedData | Promise<GeneratedData>)
  | (() => Iterable<GeneratedData> | AsyncIterable<GeneratedData>);

const SHAPE =
  'export default (n: number) => data, or export default function* () { yield data } (sync or async)';

/** Whether `fn` is a `function*` or `async function*`: called once and iterated, not per index. */
function isGeneratorFunction(fn: (...args: never[]) => unknown): boolean {
  const name = fn.constructor?.name;
  return name === 'GeneratorFunction' || name === 'AsyncGeneratorFunction';
}

/**
 * The data a generator makes, in order, as one async iterable: at most `limit` values, fewer if
 * the generator ends first.
 */
export async function* generatedData(
  generator: RecordGenerator,
  limit: number | undefined,
): AsyncGenerator<GeneratedData> {
  const max = limit ?? Number.POSITIVE_INFINITY;
  if (isGeneratorFunction(generator)) {
    let count = 0;
    if (count >= max) return;
    for await (const data of (generator as () => AsyncIterable<GeneratedData>)()) {
      yield data;
      count += 1;
      if (count >= max) return;
    }
    return;
  }
  for (let index = 0; index < max; index++) {
    const data = await (generator as (index: number) => GeneratedData)(index);
    if (data === undefined) return;
    yield data;
  }
}

/**
 * Imports the module given to `--generate` and returns its generator (exit 2 if it has none).
 * `<module>#<export>` picks an export. An export that is a schema rather than a function (a zod 4
 * validator, or a JSON Schema object) gets a generator derived from it: see {@link schemaGenerator}.
 */
export async function loadGenerator(given: string): Promise<RecordGenerator> {
  const hash = given.lastIndexOf('#');
  const entry = hash > 0 ? given.slice(0, hash) : given;
  const name = hash > 0 ? given.slice(hash + 1) : undefined;
  const module = await importBundled(entry, '--generate module', `a module exporting ${SHAPE}`);
  // A CommonJS bundle imported from ESM may wrap the exports once more under `default`.
  const nested = (module.default as Record<string, unknown> | undefined) ?? {};
  if (name !== undefined) {
    const chosen = module[name] ?? nested[name];
    if (typeof chosen === 'function' && !isSchema(chosen)) return chosen as RecordGenerator;
    if (isSchema(chosen)) return schemaGenerator(chosen, `${entry}#${name}`);
    fail(`${entry} exports no generator or schema named ${name}`);
  }
  const candidates = [module.generate, nested.generate, nested.default, module.default];
  const candidate = candidates.find((value) => typeof value === 'function' && !isSchema(value));
  if (candidate !== undefined) return candidate as RecordGenerator;
  const schema = candidates.find(isSchema);
  if (schema !== undefined) return schemaGenerator(schema, entry);
  fail(
    `${entry} exports no generator: ${SHAPE}, or a schema (zod 4, JSON Schema) as default or via <module>#<export>`,
  );
}
