import { batchTracerFromEnvironment, NO_SPAN } from '../../../functions/runtime/batch-trace';

jest.mock('@aws-lambda-powertools/tracer', () => {
  throw new Error('the X-Ray SDK was loaded');
});

describe('the batch tracer', () => {
  test('does not load the X-Ray SDK when the pipeline has tracing off', () => {
    // When
    const tracer = batchTracerFromEnvironment('retail', {
      AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
    });

    // Then
    expect(tracer.startBatch()).toBe(NO_SPAN);
  });

  test('does not load it where no X-Ray daemon runs, as on the embedded stack', () => {
    // When
    const tracer = batchTracerFromEnvironment('retail', {
      DRIVERLESS_TRACING: 'true',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
    });

    // Then
    expect(tracer.startBatch()).toBe(NO_SPAN);
  });
});
