import type { LocalApp } from '../emulator/index';
import type { LocalFunctionResource, LocalResource, LocalResources } from './local-pipeline';

/** A function as the test API needs it: what it reads, its environment and timeout. */
export interface ModelFunction extends LocalFunctionResource {
  readonly timeoutSeconds: number;
}

/** The app under test: its resources and how names given by a test resolve to them. */
export interface AppModel {
  readonly resources: LocalResources;
  readonly functions: readonly ModelFunction[];
  /** Stream name → ARN. */
  readonly streamArns: ReadonlyMap<string, string>;
}

const SOURCE_VARIABLE = 'DRIVERLESS_SOURCE';

const streamNameOf = (arn: string) =>
  arn.slice(arn.indexOf(':stream/') + ':stream/'.length).split('/')[0] ?? arn;

/** The model of an app the embedded stack runs (names resolved, logical IDs known). */
export function modelOfApp(app: LocalApp): AppModel {
  const resource = (r: { name: string; logicalId: string }): LocalResource => ({
    name: r.name,
    logicalId: r.logicalId,
  });
  const functions = app.functions.map((fn): ModelFunction => {
    const streams = app.mappings
      .filter((m) => m.functionName.split(':')[0] === fn.name)
      .map((m) => streamNameOf(m.streamArn));
    return {
      name: fn.name,
      logicalId: fn.logicalId,
      source: fn.environment[SOURCE_VARIABLE],
      streams: [...new Set(streams)],
      environment: fn.environment,
      timeoutSeconds: fn.timeoutSeconds,
    };
  });
  return {
    resources: {
      streams: app.streams.map(resource),
      tables: app.tables.map(resource),
      queues: app.queues.map(resource),
      buckets: app.buckets.map(resource),
      functions,
    },
    functions,
    streamArns: new Map(app.streams.map((s) => [s.name, s.arn])),
  };
}

const list = (names: readonly (string | undefined)[]) =>
  [...new Set(names.filter((n): n is string => n !== undefined))].sort().join(', ') || 'none';

/** The functions a test names: by name, logical ID, or source (every function of the source). */
export function functionsNamed(model: AppModel, name: string): ModelFunction[] {
  const { functions } = model;
  const exact = functions.filter((fn) => fn.name === name || fn.logicalId === name);
  if (exact.length > 0) return exact;
  const ofSource = functions.filter((fn) => fn.source === name);
  if (ofSource.length > 0) return ofSource;
  throw new Error(
    `no function or source is named ${name} (functions: ${list(functions.map((f) => f.name))}; ` +
      `sources: ${list(functions.map((f) => f.source))})`,
  );
}

/** The stream a test names: a stream name or logical ID, or a source whose functions read one stream. */
export function streamNamed(model: AppModel, name: string): string {
  const { functions } = model;
  const { streams } = model.resources;
  const stream = streams.find((s) => s.name === name || s.logicalId === name);
  if (stream !== undefined) return stream.name;
  const read = new Set(
    functions
      .filter((fn) => fn.source === name || fn.name === name || fn.logicalId === name)
      .flatMap((fn) => fn.streams),
  );
  if (read.size === 1) return [...read][0] as string;
  throw new Error(
    read.size > 1
      ? `${name} reads several streams (${list([...read])}): name the stream`
      : `no stream or source is named ${name} (streams: ${list(streams.map((s) => s.name))}; ` +
          `sources: ${list(functions.map((f) => f.source))})`,
  );
}

/** The table a test names: by name or logical ID. */
export function tableNamed(model: AppModel, name: string): string {
  const { tables } = model.resources;
  const table = tables.find((t) => t.name === name || t.logicalId === name);
  if (table === undefined) {
    throw new Error(`no table is named ${name} (tables: ${list(tables.map((t) => t.name))})`);
  }
  return table.name;
}
