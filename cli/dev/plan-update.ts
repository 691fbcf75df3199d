import { basename } from 'node:path';
import { emptyApp, type LocalApp, type LocalFunction } from '../../emulator/index';

/** What a new synth changed, compared with the app that runs. */
export interface UpdatePlan {
  /** Functions whose bundle changed: name → new code, published as a new version. */
  readonly publish: readonly { readonly functionName: string; readonly codeDirectory: string }[];
  /**
   * Resources the new synth adds, which the running stack creates while the rest keeps running
   * (`EmbeddedStack.addResources`); every list is empty when nothing is new.
   */
  readonly add: LocalApp;
  /**
   * Changes the running stack cannot take, one per resource, each naming it and what changed
   * ("stream Orders: shardCount changed"): the servers and pollers were made from the old
   * template, so these wait for a restart.
   */
  readonly needRestart: readonly string[];
}

/** The kinds of resources compared as a whole; functions are compared apart (code vs settings). */
type Kind = 'streams' | 'consumers' | 'tables' | 'queues' | 'buckets' | 'mappings' | 'schedules';

const KIND_NAMES: Record<Kind, string> = {
  streams: 'stream',
  consumers: 'stream consumer',
  tables: 'table',
  queues: 'queue',
  buckets: 'bucket',
  mappings: 'event source mapping',
  schedules: 'schedule rule',
};

/**
 * Compares the app that runs with a new synth of it (both as the assembly models them, before
 * provisioning). A function whose asset changed gets its new bundle published (a new version, the
 * way an upgrade ships code); a resource that is new is added; a resource changed or removed
 * (and a function's settings) needs a restart, and is named.
 * Assets are compared by their directory name: CDK names it after the hash of its content.
 */
export function planUpdate(running: LocalApp, next: LocalApp): UpdatePlan {
  const publish: { functionName: string; codeDirectory: string }[] = [];
  const needRestart: string[] = [];
  const add = emptyApp(next);
  const compare = <T extends Named>(
    kind: string,
    before: readonly T[],
    after: readonly T[],
    added: T[],
    changed: (old: T, now: T) => string[],
  ) => {
    const old = byLogicalId(before);
    for (const resource of after) {
      const was = old.get(resource.logicalId);
      if (was === undefined) added.push(resource);
      else {
        const keys = changed(was, resource);
        if (keys.length > 0)
          needRestart.push(`${kind} ${nameOf(resource)}: ${keys.join(', ')} changed`);
      }
    }
    const now = byLogicalId(after);
    for (const [id, resource] of old) {
      if (!now.has(id)) needRestart.push(`${kind} ${nameOf(resource)} removed`);
    }
  };
  for (const kind of Object.keys(KIND_NAMES) as Kind[]) {
    compare<Named>(KIND_NAMES[kind], running[kind], next[kind], add[kind] as Named[], changedKeys);
  }
  compare('function', running.functions, next.functions, add.functions, (old, fn) => {
    if (basename(old.codeDirectory) !== basename(fn.codeDirectory)) {
      publish.push({ functionName: old.name, codeDirectory: fn.codeDirectory });
    }
    return changedKeys(withoutCode(old), withoutCode(fn));
  });
  return { publish, add, needRestart };
}

/** Whether a plan adds anything. */
export function addsResources(plan: UpdatePlan): boolean {
  const { add } = plan;
  return (
    add.streams.length +
      add.consumers.length +
      add.tables.length +
      add.queues.length +
      add.buckets.length +
      add.functions.length +
      add.mappings.length +
      add.schedules.length >
    0
  );
}

/** What a resource may carry to be named by: a physical name, or the stream a mapping reads. */
interface Named {
  readonly logicalId: string;
  readonly name?: string;
  readonly streamArn?: string;
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * How a person knows a resource: a stream, table, queue or bucket by its name (the one the AWS CLI
 * takes), a function by its logical id, a mapping by the stream it reads. Logical ids of
 * mappings run to 80 characters.
 */
function nameOf(resource: Named): string {
  if (resource.environment !== undefined) return resource.logicalId;
  if (resource.streamArn !== undefined && resource.name === undefined) {
    return `on ${resource.streamArn.slice(resource.streamArn.lastIndexOf('/') + 1)}`;
  }
  return resource.name ?? resource.logicalId;
}

/** "stream clicks, function ClicksFunction, event source mapping on clicks": what a plan adds. */
export function describeAdded(added: LocalApp): string {
  const kinds: [string, readonly Named[]][] = [
    ['stream', added.streams],
    ['stream consumer', added.consumers],
    ['table', added.tables],
    ['queue', added.queues],
    ['bucket', added.buckets],
    ['function', added.functions],
    ['event source mapping', added.mappings],
    ['schedule rule', added.schedules],
  ];
  return kinds
    .flatMap(([kind, items]) => items.map((item) => `${kind} ${nameOf(item)}`))
    .join(', ');
}

function byLogicalId<T extends { logicalId: string }>(items: readonly T[]): Map<string, T> {
  return new Map(items.map((item) => [item.logicalId, item]));
}

/** A function's settings: its code, and how the code is built, are compared by the asset. */
function withoutCode(fn: LocalFunction): Omit<LocalFunction, 'codeDirectory' | 'bundle'> {
  const { codeDirectory: _, bundle: __, ...rest } = fn;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function changedKeys(a: object, b: object): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter(
    (key) => !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
