// `driverless/testing`: test a pipeline from jest or node:test.
//
// - Unit level, no servers: Kinesis events from plain objects (testStream, kinesisEvent,
//   kplAggregate), a Lambda context (lambdaContext), and invoke, which runs a handler and returns
//   its answer with the dead letters it wrote (setHandlerEnvironment first).
// - Integration level: startLocal runs your CDK app on the embedded local stack (or attaches to
//   LocalStack) and returns a LocalPipeline: put, drained, deadLetters, invocations, clients, faults.
// Anything not exported here is internal and free to change.

export { DrainTimeoutError } from './drain-timeout-error';
export type { HandlerEnvironment } from './handler-environment';
export { setHandlerEnvironment } from './handler-environment';
export type { InvokeOptions, InvokeResult, KinesisHandler } from './invoke';
export { invoke } from './invoke';
export type {
  TestEventOptions,
  TestRecord,
  TestStream,
  TestStreamOptions,
  TestWindow,
  TestWindowEvent,
} from './kinesis-events';
export { kinesisEvent, sequenceNumber, shardIdOf, testStream } from './kinesis-events';
export type { AggregatedRecord } from './kpl';
export { kplAggregate } from './kpl';
export type { LambdaContextOptions } from './lambda-context';
export { lambdaContext } from './lambda-context';
export type {
  DrainedOptions,
  FunctionFault,
  LocalClients,
  LocalEndpoints,
  LocalFaults,
  LocalFunctionResource,
  LocalPipeline,
  LocalResource,
  LocalResources,
  MappingDrain,
  PutRecord,
  PutResult,
  RecordedInvocation,
  TableFault,
} from './local-pipeline';
export type { StartLocalOptions } from './start-local';
export { startLocal } from './start-local';
