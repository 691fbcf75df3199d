import { assemblyStackNames, type ReadAssemblyOptions, readAssembly } from './assembly';
import type { LocalApp } from './model';

/**
 * Reads several stacks of one cloud assembly into one {@link LocalApp}, so they share one set of
 * servers: every resource keeps the physical name its own stack gives it (names start with the
 * stack name), so the stacks cannot collide. `stackNames` empty means every stack.
 * @throws naming the stacks that cannot run, all together
 */
export function readAssemblyStacks(
  directory: string,
  stackNames: readonly string[],
  options: Omit<ReadAssemblyOptions, 'stackName'> = {},
): LocalApp {
  const names = stackNames.length > 0 ? stackNames : assemblyStackNames(directory);
  if (names.length === 0) throw new Error(`${directory} holds no stack`);
  const apps = names.map((stackName) => readAssembly(directory, { ...options, stackName }));
  const [first] = apps as [LocalApp, ...LocalApp[]];
  if (apps.length === 1) return first;
  return {
    stackName: names.join(', '),
    region: first.region,
    accountId: first.accountId,
    streams: apps.flatMap((app) => app.streams),
    consumers: apps.flatMap((app) => app.consumers),
    tables: apps.flatMap((app) => app.tables),
    queues: apps.flatMap((app) => app.queues),
    buckets: apps.flatMap((app) => app.buckets),
    functions: apps.flatMap((app) => app.functions),
    mappings: apps.flatMap((app) => app.mappings),
    schedules: apps.flatMap((app) => app.schedules),
    skipped: apps.flatMap((app) => app.skipped),
  };
}
