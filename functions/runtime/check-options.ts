import { ConfigurationError } from './errors';
import type { MicroBatchOptions } from './micro-batch';
import type { Stages } from './stages';

/** Checks `microBatch` options at cold start, reporting every problem in one error. */
export function checkOptions<T, S, State>(
  options: MicroBatchOptions<T, S, State>,
  stages: Stages<T>,
  jobs: Record<string, unknown>,
): void {
  const problems: string[] = [];
  const decode: unknown = options.decode;
  if (
    typeof decode !== 'function' &&
    typeof (decode as { fromBytes?: unknown })?.fromBytes !== 'function'
  ) {
    problems.push('decode must be a decoder: json(schema), utf8(), bytes() or (bytes) => value');
  }
  if (Object.keys(jobs).length === 0 && !options.window) {
    problems.push('give at least one job (jobs: { name: async (input, ctx) => ... }) or a window');
  }
  if ('records' in stages)
    problems.push('a stage cannot be named "records": jobs receive the records under that name');
  for (const [name, job] of Object.entries(jobs)) {
    if (typeof job !== 'function') problems.push(`jobs.${name} must be a function`);
    if (name.includes(',') || name.startsWith('!'))
      problems.push(`job name "${name}" cannot contain "," or start with "!"`);
  }
  for (const [name, stage] of Object.entries(stages)) {
    if (typeof stage !== 'function')
      problems.push(`stages.${name} must be a function of the records`);
  }
  if (problems.length > 0) throw new ConfigurationError(`microBatch: ${problems.join('; ')}`);
}
