import { basename } from 'node:path';
import type { LocalApp, LocalFunction } from '../../emulator/index';

/** What a new synth changed, compared with the app that runs. */
export interface UpdatePlan {
  /** Functions whose bundle changed and nothing else that needs a restart: name → new code. */
  readonly publish: readonly { readonly functionName: string; readonly codeDirectory: string }[];
  /** Changes the running stack cannot take: each says what and why a restart is needed. */
  readonly needRestart: readonly string[];
}

type Kind = 'streams' | 'consumers' | 'tables' | 'queues' | 'buckets' | 'mappings';

const KIND_NAMES: Record<Kind, string> = {
  streams: 'stream',
  consumers: 'stream consumer',
  tables: 'table',
  queues: 'queue',
  buckets: 'bucket',
  mappings: 'event source mapping',
};

/**
 * Compares the app that runs with a new synth of it. A function whose asset changed gets its new
 * bundle published (a new version, the way an upgrade ships code); everything else that changed
 * (a resource added, removed or reconfigured, a function's settings) is named with what to do,
 * because the servers and pollers were made from the old template.
 * Assets are compared by their directory name: CDK names it after the hash of its content.
 */
export function planUpdate(running: LocalApp, next: LocalApp): UpdatePlan {
  const publish: { functionName: string; codeDirectory: string }[] = [];
  const needRestart: string[] = [];
  for (const kind of Object.keys(KIND_NAMES) as Kind[]) {
    const before = byLogicalId<{ logicalId: string }>(running[kind]);
    const after = byLogicalId<{ logicalId: string }>(next[kind]);
    for (const [id, resource] of after) {
      const old = before.get(id);
      if (old === undefined) needRestart.push(`new ${KIND_NAMES[kind]} ${id}: restart to add it`);
      else if (!sameJson(old, resource)) {
        needRestart.push(
          `${KIND_NAMES[kind]} ${id} changed (${changedKeys(old, resource).join(', ')}): restart to apply`,
        );
      }
    }
    for (const id of before.keys()) {
      if (!after.has(id)) needRestart.push(`${KIND_NAMES[kind]} ${id} removed: restart to drop it`);
    }
  }
  const before = byLogicalId(running.functions);
  const after = byLogicalId(next.functions);
  for (const [id, fn] of after) {
    const old = before.get(id);
    if (old === undefined) {
      needRestart.push(`new function ${id}: restart to run it`);
      continue;
    }
    const settings = changedKeys(withoutCode(old), withoutCode(fn));
    if (settings.length > 0) {
      needRestart.push(`function ${id}'s ${settings.join(', ')} changed: restart to apply`);
    }
    if (basename(old.codeDirectory) !== basename(fn.codeDirectory)) {
      publish.push({ functionName: old.name, codeDirectory: fn.codeDirectory });
    }
  }
  for (const id of before.keys()) {
    if (!after.has(id)) needRestart.push(`function ${id} removed: restart to drop it`);
  }
  return { publish, needRestart };
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
