import type { Context } from 'aws-lambda';
import { json, memoryDeadLetters, microBatch } from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';

function captureStdout(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  return {
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => spy.mockRestore(),
  };
}

describe('observability', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    process.env.DRIVERLESS_SOURCE = 'productViews';
    process.env.POWERTOOLS_SERVICE_NAME = 'retail';
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  async function runOneBatch() {
    const handler = microBatch({
      decode: json<{ n: number }>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        fine: async () => undefined,
        picky: async ({ records }) => ({ failed: records.slice(1) }),
      },
    });
    const stdout = captureStdout();
    try {
      await handler(
        // The bad record comes before the one "picky" fails: a letter after it would wait for the retry.
        kinesisEvent([{ data: { n: 1 } }, { raw: 'e30=!!!!' }, { data: { n: 2 } }]),
        lambdaContext(),
      );
    } finally {
      stdout.restore();
    }
    return stdout.lines();
  }

  it('logs one structured line per batch with per-job outcomes', async () => {
    // When
    const lines = await runOneBatch();

    // Then
    const batchLines = lines.filter((line) => line.message === 'batch');
    expect(batchLines).toHaveLength(1);
    expect(batchLines[0]).toMatchObject({
      level: 'INFO',
      service: 'retail',
      batch: {
        source: 'productViews',
        shardId: 'shardId-000000000003',
        records: 3,
        deadLetters: 1,
        undeliveredDeadLetters: 0,
        jobs: {
          fine: { status: 'succeeded', records: 2, failed: 0 },
          picky: { status: 'partial', records: 2, failed: 1 },
        },
        failedFrom: expect.any(String),
      },
    });
    const batch = batchLines[0]?.batch as { batchId: string; iteratorAgeMs: number };
    expect(batch.batchId).toMatch(/^[0-9a-f]{32}$/);
    expect(batch.iteratorAgeMs).toBeGreaterThan(0);
  });

  it('emits embedded metrics per job with service, Source and Job dimensions', async () => {
    // When
    const lines = await runOneBatch();

    // Then
    const picky = lines.find((line) => line.Job === 'picky');
    expect(picky).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Driverless',
            Dimensions: [['service', 'Source', 'Job']],
            Metrics: [
              { Name: 'JobRecords', Unit: 'Count' },
              { Name: 'JobFailedRecords', Unit: 'Count' },
              { Name: 'JobDuration', Unit: 'Milliseconds' },
              { Name: 'JobGBSeconds', Unit: 'None' },
            ],
          },
        ],
      },
      service: 'retail',
      Source: 'productViews',
      JobRecords: 2,
      JobFailedRecords: 1,
    });
  });

  it('emits the per-source figures per function, so two functions of a source are not added together', async () => {
    // Given
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'retail-views-main';

    // When
    const lines = await runOneBatch();

    // Then
    const source = lines.find((line) => line.BatchRecords !== undefined);
    expect(source).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Driverless',
            Dimensions: [['service', 'Source', 'FunctionName']],
            Metrics: [
              { Name: 'BatchRecords', Unit: 'Count' },
              { Name: 'DeadLetters', Unit: 'Count' },
              { Name: 'BatchGBSeconds', Unit: 'None' },
            ],
          },
        ],
      },
      service: 'retail',
      Source: 'productViews',
      FunctionName: 'retail-views-main',
      BatchRecords: 3,
      DeadLetters: 1,
    });
  });

  it('names the function local outside Lambda', async () => {
    // Given
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;

    // When
    const lines = await runOneBatch();

    // Then
    const source = lines.find((line) => line.BatchRecords !== undefined);
    expect(source).toMatchObject({ FunctionName: 'local' });
  });

  it('names the source local when neither a source nor a function is named', async () => {
    // Given
    delete process.env.DRIVERLESS_SOURCE;
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;

    // When
    const lines = await runOneBatch();

    // Then
    const batch = lines.find((line) => line.message === 'batch')?.batch;
    expect(batch).toMatchObject({ source: 'local' });
  });

  it('logs as iterator age the time since the last record of the batch arrived', async () => {
    // Given: records that arrived 10 s and 4 s ago
    const handler = microBatch({
      decode: json<{ n: number }>(),
      deadLetters: memoryDeadLetters(),
      jobs: { fine: async () => undefined },
    });
    const before = Date.now();
    const stdout = captureStdout();

    // When
    try {
      await handler(
        kinesisEvent([
          { data: { n: 1 }, arrival: (before - 10_000) / 1000 },
          { data: { n: 2 }, arrival: (before - 4_000) / 1000 },
        ]),
        lambdaContext(),
      );
    } finally {
      stdout.restore();
    }
    const after = Date.now();

    // Then
    const batch = stdout.lines().find((line) => line.message === 'batch')?.batch as {
      iteratorAgeMs: number;
    };
    // ±1 ms: the arrival crosses epoch seconds with a fraction, which floating point rounds.
    expect(batch.iteratorAgeMs).toBeGreaterThanOrEqual(4_000 - 1);
    expect(batch.iteratorAgeMs).toBeLessThanOrEqual(4_000 + (after - before) + 1);
  });

  it('names the service "driverless" when neither Powertools nor the pipeline names it', async () => {
    // Given
    delete process.env.POWERTOOLS_SERVICE_NAME;
    delete process.env.DRIVERLESS_PIPELINE;

    // When
    const lines = await runOneBatch();

    // Then
    expect(lines.find((line) => line.message === 'batch')).toMatchObject({ service: 'driverless' });
  });

  it('logs the batch and decode durations, each within the time the invocation took', async () => {
    // When
    const before = performance.now();
    const lines = await runOneBatch();
    const tookMs = performance.now() - before;

    // Then
    const batch = lines.find((line) => line.message === 'batch')?.batch as {
      durationMs: number;
      decodeMs: number;
    };
    expect(batch.durationMs).toBeGreaterThanOrEqual(0);
    expect(batch.durationMs).toBeLessThanOrEqual(tookMs);
    expect(batch.decodeMs).toBeGreaterThanOrEqual(0);
    expect(batch.decodeMs).toBeLessThanOrEqual(batch.durationMs);
    // No job reads a stage: the line has no stage costs, not an empty object.
    expect(batch).not.toHaveProperty('stages');
  });

  it('logs no iterator age for an invocation without records', async () => {
    // Given
    const handler = microBatch({
      decode: json<{ n: number }>(),
      deadLetters: memoryDeadLetters(),
      jobs: { fine: async () => undefined },
    });
    const stdout = captureStdout();

    // When
    try {
      await handler({ Records: [] }, lambdaContext());
    } finally {
      stdout.restore();
    }

    // Then
    const batch = stdout.lines().find((line) => line.message === 'batch')?.batch;
    expect(batch).toMatchObject({ records: 0 });
    expect(batch).not.toHaveProperty('iteratorAgeMs');
    // No job ran, not even to be skipped.
    expect((batch as { jobs: unknown }).jobs).toStrictEqual({});
  });

  describe('what each job and stage costs', () => {
    const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

    async function runCostedBatch(context = lambdaContext()) {
      const handler = microBatch({
        decode: json<{ n: number }>(),
        deadLetters: memoryDeadLetters(),
        stages: { lookup: async () => sleep(40) },
        jobs: {
          enriched: async ({ lookup }) => {
            await lookup;
          },
          waits: async () => sleep(40),
          quick: async () => undefined,
        },
      });
      const stdout = captureStdout();
      try {
        await handler(kinesisEvent([{ data: { n: 1 } }]), context);
      } finally {
        stdout.restore();
      }
      return stdout.lines();
    }

    it('logs stage times without a cost where the memory size is unknown (off Lambda)', async () => {
      // Given: no memoryLimitInMB in the context (nor AWS_LAMBDA_FUNCTION_MEMORY_SIZE, as in tests)
      const { memoryLimitInMB: _, ...context } = lambdaContext();

      // When
      const lines = await runCostedBatch(context as Context);

      // Then
      const batch = lines.find((line) => line.message === 'batch')?.batch as {
        stages: Record<string, { durationMs: number; gbSeconds?: number }>;
        gbSeconds?: number;
      };
      expect(batch.stages.lookup?.durationMs).toBeGreaterThanOrEqual(39);
      expect(batch.stages.lookup).not.toHaveProperty('gbSeconds');
      expect(batch).not.toHaveProperty('gbSeconds');
    });

    it('logs each stage it computed with its time', async () => {
      // When
      const lines = await runCostedBatch();

      // Then
      const batch = lines.find((line) => line.message === 'batch')?.batch as {
        stages: Record<string, { durationMs: number }>;
        decodeMs: number;
      };
      expect(batch.stages.lookup?.durationMs).toBeGreaterThanOrEqual(39);
      expect(batch.decodeMs).toBeGreaterThanOrEqual(0);
    });

    it('charges a stage to the stage, not to the job that read it first', async () => {
      // When
      const lines = await runCostedBatch();

      // Then: `enriched` only waited on the stage, `waits` spent its own 40 ms
      const gbSeconds = (job: string) =>
        lines.find((line) => line.Job === job)?.JobGBSeconds as number;
      const stage = lines.find((line) => line.Stage === 'lookup');
      expect(stage).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Dimensions: [['service', 'Source', 'Stage']] }] },
        Source: 'productViews',
      });
      expect(gbSeconds('waits')).toBeGreaterThan(gbSeconds('enriched') * 4);
      expect(gbSeconds('waits')).toBeGreaterThan(gbSeconds('quick') * 4);
      expect(stage?.StageGBSeconds as number).toBeGreaterThan(gbSeconds('enriched') * 4);
    });

    it('divides the whole invocation among stages and jobs', async () => {
      // When
      const lines = await runCostedBatch();

      // Then
      const total = lines.find((line) => line.BatchGBSeconds !== undefined)
        ?.BatchGBSeconds as number;
      const parts = lines
        .map((line) => (line.JobGBSeconds ?? line.StageGBSeconds ?? 0) as number)
        .reduce((sum, part) => sum + part, 0);
      expect(parts).toBeCloseTo(total, 6);
    });
  });
});
