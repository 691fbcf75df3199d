// Type-checked against the packed declarations with the strictest settings a consumer may use
// (strict, exactOptionalPropertyTypes, noPropertyAccessFromIndexSignature), under NodeNext and
// bundler resolution. It uses the public surface the way the README shows it.
import { App, Duration, Stack } from 'aws-cdk-lib';
import type { MicroBatchPipelineProps } from 'driverless';
import { MicroBatchPipeline } from 'driverless';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';
import { json, memoryDeadLetters, microBatch, utf8 } from 'driverless/runtime';
import type { LocalPipeline, RecordedInvocation } from 'driverless/testing';
import {
  invoke as invokeHandler,
  kinesisEvent,
  kplAggregate,
  lambdaContext,
  startLocal,
  testStream,
} from 'driverless/testing';

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

// The testing API as a test uses it.
export const windowed: KinesisEvent = testStream({ streamName: 'clicks', shardCount: 2 }).event(
  [{ data: { id: 'c1' }, partitionKey: 'u1' }],
  { shard: 1, window: { tumblingSeconds: 60, state: { seen: 1 } } },
);
export const invoked = async () => {
  const aggregate = await kplAggregate([{ data: { id: 'a' } }, { data: { id: 'b' } }]);
  const { response, deadLetters } = await invokeHandler(parsed, kinesisEvent([aggregate]), {
    context: lambdaContext({ functionName: 'clicks', remainingMs: 1000 }),
  });
  return [response.batchItemFailures, deadLetters.map((letter) => letter.reason)];
};
export const pipelineTest = async (): Promise<readonly RecordedInvocation[]> => {
  const local: LocalPipeline = await startLocal({ app: '.', stack: 'Strict' });
  try {
    await local.put('clicks', [{ data: { id: 'c1' } }]);
    await local.drained({ timeoutMs: 10_000 });
    local.faults.function('clicks', { kind: 'throw', times: 2 });
    local.faults.table('Results', { kind: 'slow', delayMs: 100 });
    return local.invocations('clicks');
  } finally {
    await local.stop();
  }
};

// A declaration that failed to resolve would type these as `any` without an error under
// skipLibCheck: each must be a real type.
type IsAny<T> = 0 extends 1 & T ? true : false;
export const handlerTyped: IsAny<MicroBatchHandler> = false;
export const middlewareTyped: IsAny<typeof withMiddleware> = false;
export const pipelineTyped: IsAny<MicroBatchPipeline> = false;
export const localTyped: IsAny<LocalPipeline> = false;
export const invokeTyped: IsAny<typeof invokeHandler> = false;
