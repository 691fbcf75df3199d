// The emulator's public module: what tools (the CLI, `npm start`, benchmarks) use to run a CDK app
// on one machine. Anything not exported here is internal and free to change; tests may reach
// internals to test them one by one. Import it as `emulator/index`: the CLI's loader does not
// resolve directory imports.
//
// - Run a synthesized app: startEmbeddedStack (the whole stack from a cloud assembly), synthesize.
// - Reach it: SDK clients for its endpoints, LOCAL_* identity, and STATE_FILE, where a running
//   stack tells other tools its endpoints; SETTLED_RECORDS_PATH on its Lambda endpoint, where it
//   tells them which records its mappings are done with.
// - Assemble a rig of its parts (benchmarks): API servers, FunctionHost, startEventSourceMapping.
// - Observe it: EsmEvent, what a running mapping reports; EsmTuning, its timing; ScheduleFiring,
//   each tick of a scheduled rule (scheduleIntervalMs makes them come faster).

export type { ReadAssemblyOptions } from './assembly';
export { assemblyStackNames, ESM_DEFAULTS } from './assembly';
export { readAssemblyStacks } from './assembly-stacks';
export type { ServiceEndpoints } from './clients';
export {
  documentClient,
  dynamoClient,
  kinesisClient,
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  lambdaClient,
  localAwsEnvironment,
  s3Client,
  sqsClient,
} from './clients';
export type { EmbeddedStack, EmbeddedStackOptions } from './embedded-stack';
export { startEmbeddedStack } from './embedded-stack';
export type {
  EsmEvent,
  EsmEventListener,
  EsmStats,
  EsmTuning,
  EventSourceMappingDeps,
  RunningMapping,
} from './esm/index';
export { defaultEsmTuning, startEventSourceMapping } from './esm/index';
export type { FunctionHostOptions, FunctionLogLine } from './functions/index';
export { FunctionHost } from './functions/index';
export type { Launcher, LauncherWatch, WatchLaunchersOptions } from './launcher-watch';
export { watchLaunchers } from './launcher-watch';
export type {
  EventSourceMappingConfig,
  InvocationFault,
  Invoke,
  InvokeCallOptions,
  InvokeResult,
  LocalApp,
  LocalFunction,
  LocalSchedule,
  ScheduleTarget,
} from './model';
export { emptyApp, withAddedResources } from './model';
export type { ScheduleFiring } from './schedules';
export type { DynamoServer } from './servers/dynamo-server';
export { startDynamo } from './servers/dynamo-server';
export type { EmbeddedServers, StartServersOptions } from './servers/embedded-servers';
export { startServers } from './servers/embedded-servers';
export type { KinesisEngine, KinesisServer } from './servers/kinesis-server';
export { startKinesis } from './servers/kinesis-server';
export type { SettledBatch, SettledPage } from './settled-records';
export { SETTLED_RECORDS_PATH } from './settled-records';
export type { StackState, StackStateAsRead, StackStateRead } from './state-file';
export { readStackState, STATE_FILE, staleStateReason } from './state-file';
export type { SynthesizeOptions } from './synth';
export { synthesize } from './synth';
