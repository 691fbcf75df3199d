/**
 * The function host's defaults, in one table. Each value says why it is what it is.
 */
export const FUNCTION_HOST_DEFAULTS = {
  /**
   * Execution environments per function when it has no reserved concurrency. Lambda's account
   * quota is 1000; one local environment is a Node process (~40 MB), so a laptop caps lower and
   * queues the excess instead of throttling.
   */
  maxEnvironmentsPerFunction: 64,
  /** How long an idle environment stays warm. Lambda keeps idle environments for minutes. */
  idleTimeoutMs: 5 * 60_000,
  /**
   * Lambda's INIT phase limit: past it the environment is torn down.
   * @see https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-ib
   */
  initTimeoutMs: 10_000,
  /** Region when neither the options nor the function ARN give one. */
  region: 'us-east-1',
  /**
   * Lambda always hands a function credentials; without them an SDK client inside the function
   * would probe the instance metadata service and stall. Local servers accept any key.
   */
  credentials: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
} as const;
