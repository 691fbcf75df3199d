import type { LocalPipeline } from './local-pipeline';

/** Options of {@link startLocal}. Give exactly one of `app` and `assembly`, or `target: 'localstack'`. */
export interface StartLocalOptions {
  /**
   * A CDK project directory: its app is synthesized (offline, no credentials) into a fresh
   * directory under `<app>/.driverless/`, removed by `stop()`.
   */
  readonly app?: string;
  /** A synthesized cloud assembly (`cdk.out`). */
  readonly assembly?: string;
  /** The stack to run when the app has several. @default - the app's only stack */
  readonly stack?: string;
  /**
   * `embedded`: the local stack in this process's children (no Docker). `localstack`: the app
   * deployed on LocalStack (`cdklocal deploy`); nothing is started, `app`/`assembly` are not used.
   * @default 'embedded'
   */
  readonly target?: 'embedded' | 'localstack';
  /**
   * LocalStack's endpoint.
   * @default - LOCALSTACK_ENDPOINT, else AWS_ENDPOINT_URL, else http://localhost:4566
   */
  readonly endpoint?: string;
  /**
   * Embedded: how long a mapping waits before polling a shard that had no records. AWS polls
   * once a second; a test need not wait that long.
   * @default 100
   */
  readonly pollIntervalMs?: number;
  /**
   * Embedded: the pause before a mapping retries a failed batch, doubling up to ten times it.
   * AWS starts at about a second.
   * @default 100
   */
  readonly retryDelayMs?: number;
}

/** The problems of the options, all at once. */
export function checkStartLocalOptions(options: StartLocalOptions): string[] {
  const problems: string[] = [];
  const target = options.target ?? 'embedded';
  if (target !== 'embedded' && target !== 'localstack') {
    problems.push(`target must be embedded or localstack (given ${String(target)})`);
  }
  if (target === 'embedded') {
    if ((options.app === undefined) === (options.assembly === undefined)) {
      problems.push(
        `give exactly one of app (a CDK project directory) and assembly (a cdk.out directory) (given ${
          options.app === undefined ? 'neither' : 'both'
        })`,
      );
    }
    if (options.endpoint !== undefined) problems.push('endpoint goes with target: localstack');
  }
  for (const knob of ['pollIntervalMs', 'retryDelayMs'] as const) {
    const value = options[knob];
    if (value !== undefined && !(Number.isFinite(value) && value >= 1)) {
      problems.push(`${knob} must be 1 or more (given ${value})`);
    }
  }
  return problems;
}

/**
 * Runs your CDK app's pipeline for a test and returns a {@link LocalPipeline} to put records,
 * wait until they are processed, and read results, dead letters and invocations.
 * ```ts
 * let local: LocalPipeline;
 * beforeAll(async () => { local = await startLocal({ app: '.' }); }, 120_000);
 * afterAll(() => local?.stop());
 * ```
 * @throws when the options are invalid, listing every problem
 */
export async function startLocal(options: StartLocalOptions): Promise<LocalPipeline> {
  const problems = checkStartLocalOptions(options);
  if (problems.length > 0) throw new Error(`startLocal: ${problems.join('; ')}`);
  // Each target loads its own modules: a LocalStack test never loads the embedded stack.
  if (options.target === 'localstack') {
    const { attachLocalStack } = await import('./localstack-pipeline');
    return attachLocalStack(options);
  }
  const { startEmbeddedPipeline } = await import('./embedded-pipeline');
  return startEmbeddedPipeline(options);
}
