import type { BatchTimings } from './batch-timings';

/** What one invocation is billed for, and how it divides among the batch's jobs and stages. */
export interface BatchCost {
  /** Memory (GB) × billed duration (s), the init phase included on a cold start. */
  readonly gbSeconds: number;
  readonly jobs: Readonly<Record<string, number>>;
  readonly stages: Readonly<Record<string, number>>;
}

/**
 * Lambda bills each invocation its memory times its duration rounded up to the millisecond, and
 * a cold start's init phase too. The runtime measures its own invocation (from the event to the
 * response, a few milliseconds under Lambda's billed figure) and, for the first invocation of an
 * execution environment, the time from the process's start to the handler's creation.
 */
export class InvocationBilling {
  readonly #initMs: number;
  #initBilled = false;

  /** @param initMs time from the process's start until the handler was made */
  constructor(initMs: number) {
    this.#initMs = initMs;
  }

  /**
   * The invocation's GB-seconds, split among its stages and jobs by their measured time: a stage's
   * computation counts for the stage, and each job for its time without the stages it computed.
   * What no stage or job measures (the decode, dead letters, cursors, the init phase) is shared
   * in the same proportions, so the parts add up to the whole. `undefined` when the memory is not
   * known (outside Lambda and the embedded stack).
   */
  cost(
    memoryMb: number | undefined,
    durationMs: number,
    timings: BatchTimings,
    jobMs: ReadonlyMap<string, number>,
  ): BatchCost | undefined {
    if (memoryMb === undefined || !(memoryMb > 0)) return undefined;
    const initMs = this.#initBilled ? 0 : this.#initMs;
    this.#initBilled = true;
    const gbSeconds = ((memoryMb / 1024) * Math.ceil(durationMs + initMs)) / 1000;
    let measured = 0;
    for (const ms of timings.stageMs.values()) measured += ms;
    const ownMs = new Map<string, number>();
    for (const [job, ms] of jobMs) {
      const own = timings.jobOwnMs(job, ms);
      ownMs.set(job, own);
      measured += own;
    }
    const share = (ms: number) => (measured > 0 ? (gbSeconds * ms) / measured : 0);
    const jobs: Record<string, number> = {};
    for (const [job, ms] of ownMs) jobs[job] = share(ms);
    const stages: Record<string, number> = {};
    for (const [stage, ms] of timings.stageMs) stages[stage] = share(ms);
    return { gbSeconds, jobs, stages };
  }
}

/** The function's memory in MB, from the invocation's context or the environment Lambda sets. */
export function memoryMbOf(
  context: { readonly memoryLimitInMB?: string | number } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const text = context?.memoryLimitInMB ?? env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
  const mb = Number(text);
  return text === undefined || !Number.isFinite(mb) ? undefined : mb;
}
