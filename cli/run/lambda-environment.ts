import { LOCAL_CREDENTIALS } from '../../emulator/index';

const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/;

/**
 * Sets what Lambda puts in every function's environment and a handler's SDK clients rely on,
 * unless the caller set it already:
 * - `AWS_REGION`: without it every client the handler (or its per-job cursors) creates fails
 *   with "Region is missing";
 * - `AWS_LAMBDA_FUNCTION_NAME`: the runtime keys per-job cursors by it, so two handlers run
 *   over one checkpoint table keep their own cursors instead of sharing them under `local`;
 * - local credentials when every `AWS_ENDPOINT_URL*` that is set points at this machine and no
 *   credentials are configured, as `--endpoint` does for Kinesis: a handler writing to a local
 *   DynamoDB would otherwise fail for want of credentials the emulator does not check.
 */
export function setLambdaEnvironment(
  env: NodeJS.ProcessEnv,
  lambda: { readonly functionName: string; readonly region: string },
): void {
  // An empty variable counts as unset, as the SDK counts it.
  if (!env.AWS_REGION) env.AWS_REGION = lambda.region;
  if (!env.AWS_LAMBDA_FUNCTION_NAME) env.AWS_LAMBDA_FUNCTION_NAME = lambda.functionName;
  const endpoints = Object.entries(env)
    .filter(([name, value]) => name.startsWith('AWS_ENDPOINT_URL') && value)
    .map(([, value]) => value as string);
  const allLocal = endpoints.length > 0 && endpoints.every((url) => LOOPBACK.test(url));
  if (allLocal && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE) {
    env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  }
}
