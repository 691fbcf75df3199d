// Type-checked against the packed declarations with the strictest settings a consumer may use
// (strict, exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature), under NodeNext and
// bundler resolution. It uses the public surface the way the README shows it.
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { MicroBatchPipelineProps } from 'driverless';
import { MicroBatchPipeline } from 'driverless';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';
import { json, memoryDeadLetters, microBatch, utf8 } from 'driverless/runtime';

const props: MicroBatchPipelineProps = {
  sources: {
    clicks: {
      stream: { shardCount: 2 },
      entry: 'functions/clicks.ts',
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
    },
  },
};
const stack = new Stack(new App(), 'Strict');
const pipeline = new MicroBatchPipeline(stack, 'Pipeline', props);
export const functions = pipeline.source('clicks').functions;

export const lines: MicroBatchHandler = microBatch({
  decode: utf8(),
  deadLetters: memoryDeadLetters(),
  jobs: { count: async ({ records }) => void records.length },
});

export const parsed = microBatch({
  decode: json<{ readonly id: string }>(),
  deadLetters: memoryDeadLetters(),
  stages: { ids: (records) => records.map((record) => record.data.id) },
  jobs: { log: async ({ ids }) => void ids.join(',') },
});

// The handler is a middy handler: middlewares attach with `.use()`.
export const withMiddleware = parsed.use({ before: async () => undefined });

export const invoke = (event: KinesisEvent) => lines(event, {} as never);

// A declaration that failed to resolve would type these as `any` without an error under
// skipLibCheck: each must be a real type.
type IsAny<T> = 0 extends 1 & T ? true : false;
export const handlerTyped: IsAny<MicroBatchHandler> = false;
export const middlewareTyped: IsAny<typeof withMiddleware> = false;
export const pipelineTyped: IsAny<MicroBatchPipeline> = false;
