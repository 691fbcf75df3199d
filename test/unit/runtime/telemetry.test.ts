import { json, memoryDeadLetters, microBatch } from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';

function metricLines(write: jest.SpyInstance): Record<string, unknown>[] {
  return write.mock.calls
    .map(([chunk]) => String(chunk))
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('metrics of a handler that serves several batches', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.DRIVERLESS_SOURCE = 'productViews';
    process.env.POWERTOOLS_SERVICE_NAME = 'retail';
  });
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });

  it("publishes each batch's own numbers with the same dimensions, not the totals of earlier batches", async () => {
    // Given: one handler, then a batch of 3 records and a batch of 2
    const handler = microBatch({
      decode: json<{ n: number }>(),
      deadLetters: memoryDeadLetters(),
      jobs: { count: async () => undefined },
    });
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);

    // When
    await handler(
      kinesisEvent([{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }]),
      lambdaContext(),
    );
    await handler(
      kinesisEvent([{ data: { n: 4 } }, { data: { n: 5 } }], { start: 100 }),
      lambdaContext(),
    );

    // Then
    const lines = metricLines(write);
    const summary = lines.map((line) => ({
      dimensions: (line._aws as { CloudWatchMetrics: { Dimensions: string[][] }[] })
        .CloudWatchMetrics[0]?.Dimensions,
      Job: line.Job,
      BatchRecords: line.BatchRecords,
      JobRecords: line.JobRecords,
    }));
    expect(summary).toStrictEqual([
      {
        dimensions: [['service', 'Source', 'FunctionName']],
        Job: undefined,
        BatchRecords: 3,
        JobRecords: undefined,
      },
      {
        dimensions: [['service', 'Source', 'Job']],
        Job: 'count',
        BatchRecords: undefined,
        JobRecords: 3,
      },
      {
        dimensions: [['service', 'Source', 'FunctionName']],
        Job: undefined,
        BatchRecords: 2,
        JobRecords: undefined,
      },
      {
        dimensions: [['service', 'Source', 'Job']],
        Job: 'count',
        BatchRecords: undefined,
        JobRecords: 2,
      },
    ]);
  });
});
