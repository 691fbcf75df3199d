export type { FunctionErrorPayload } from './execution-environment';
export type {
  EnvironmentInfo,
  FunctionHostOptions,
  FunctionInvocation,
  InvokeOptions,
  ResolvedFunction,
} from './function-host';
export { FunctionHost } from './function-host';
export { FUNCTION_HOST_DEFAULTS } from './function-host-defaults';
export type { FunctionLogLine } from './function-log-line';
export type { LambdaServiceErrorCode } from './lambda-service-error';
export { LambdaServiceError } from './lambda-service-error';
