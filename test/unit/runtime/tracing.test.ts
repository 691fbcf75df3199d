import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';

/** A stand-in for the X-Ray daemon Lambda runs beside a traced function: collects what is sent. */
async function startDaemon(): Promise<{ socket: Socket; documents: Record<string, unknown>[] }> {
  const documents: Record<string, unknown>[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (message) => {
    // Each datagram is a header line, then the segment document.
    const [, body] = message.toString('utf8').split('\n');
    if (body) documents.push(JSON.parse(body) as Record<string, unknown>);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, documents };
}

const TRACE_ROOT = '1-67891233-abcdef012345678912345678';

describe('tracing', () => {
  const saved = { ...process.env };
  let daemon: Awaited<ReturnType<typeof startDaemon>>;

  beforeAll(async () => {
    daemon = await startDaemon();
  });
  afterAll(() => {
    daemon.socket.close();
  });
  afterEach(() => {
    process.env = { ...saved };
    daemon.documents.length = 0;
  });

  /** Lambda's environment for a function with active tracing, as the X-Ray SDK reads it. */
  function tracedLambdaEnvironment(tracing: string | undefined): void {
    Object.assign(process.env, {
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      LAMBDA_TASK_ROOT: '/var/task',
      AWS_LAMBDA_FUNCTION_NAME: 'retail-views',
      AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.socket.address() as AddressInfo).port}`,
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      _X_AMZN_TRACE_ID: `Root=${TRACE_ROOT};Parent=53995c3f42cd8ad8;Sampled=1`,
      DRIVERLESS_SOURCE: 'productViews',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    if (tracing === undefined) delete process.env.DRIVERLESS_TRACING;
    else process.env.DRIVERLESS_TRACING = tracing;
  }

  async function runBatch(
    event = kinesisEvent([{ data: { n: 1 } }, { data: { n: 2 } }]),
    countsTakeMs = 0,
  ): Promise<void> {
    await jest.isolateModulesAsync(async () => {
      const { json, memoryDeadLetters, microBatch } = await import('driverless/runtime');
      const handler = microBatch({
        decode: json<{ n: number }>(),
        deadLetters: memoryDeadLetters(),
        stages: { doubled: ({ length }) => length * 2 },
        jobs: {
          counts: async ({ doubled }) => {
            void doubled;
            if (countsTakeMs > 0) await new Promise((resolve) => setTimeout(resolve, countsTakeMs));
          },
          // Two jobs succeed and one fails, so a count of the wrong ones cannot pass for failedJobs.
          idle: async () => undefined,
          broken: async () => {
            throw new Error('sink down');
          },
        },
      });
      await handler(event, lambdaContext());
    });
  }

  /** Waits until the daemon has the batch's subsegment, sent last, when the batch ends. */
  async function batchDocument(): Promise<Record<string, unknown>> {
    // Bounded below the test's timeout, so a batch that is never sent fails with this message and
    // leaves no loop running.
    const giveUpAt = Date.now() + 4_000;
    while (Date.now() < giveUpAt) {
      const batch = daemon.documents.find((doc) => doc.name === 'driverless batch');
      if (batch) return batch;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error('the batch subsegment never reached the daemon');
  }

  const named = (name: string) => daemon.documents.find((doc) => doc.name === name);

  test('records one subsegment per batch in the invocation trace, annotated for search', async () => {
    // Given
    tracedLambdaEnvironment('true');

    // When
    await runBatch();

    // Then
    const batch = await batchDocument();
    expect(batch).toMatchObject({
      trace_id: TRACE_ROOT,
      parent_id: '53995c3f42cd8ad8',
      type: 'subsegment',
      annotations: {
        source: 'productViews',
        shard: 'shardId-000000000003',
        records: 2,
        failedJobs: 1,
      },
    });
    expect((batch.annotations as { batchId: string }).batchId).toMatch(/^[0-9a-f]{32}$/);
  });

  test('records each job and stage under the batch, with the job status', async () => {
    // Given
    tracedLambdaEnvironment('true');

    // When
    await runBatch();

    // Then
    const batch = await batchDocument();
    const counts = named('job counts');
    const broken = named('job broken');
    expect(counts).toMatchObject({
      parent_id: batch.id,
      annotations: { job: 'counts', status: 'succeeded', records: 2, failedRecords: 0 },
    });
    expect(counts).not.toHaveProperty('fault');
    expect(broken).toMatchObject({
      parent_id: batch.id,
      annotations: { job: 'broken', status: 'failed', records: 2, failedRecords: 2 },
      fault: true,
    });
    expect(JSON.stringify(broken?.cause)).toContain('sink down');
    expect(named('stage doubled')).toMatchObject({ parent_id: counts?.id });
    expect(named('decode')).toMatchObject({ parent_id: batch.id });
    expect(named('dead letters')).toBeUndefined();
  });

  test('ends each subsegment when its part ends: decode before the jobs start, a job when it returns', async () => {
    // Given: "counts" takes a while and "idle" returns at once, so an end taken at the batch's
    // end would come after the start of "counts" and with its end
    tracedLambdaEnvironment('true');

    // When
    await runBatch(undefined, 20);

    // Then
    await batchDocument();
    const decode = named('decode') as { end_time: number };
    const counts = named('job counts') as { start_time: number; end_time: number };
    const idle = named('job idle') as { end_time: number };
    expect(decode.end_time).toBeLessThanOrEqual(counts.start_time);
    expect(idle.end_time).toBeLessThan(counts.end_time);
  });

  test('records the dead-letter delivery under the batch, with how many letters were not delivered', async () => {
    // Given: a batch whose first record is not JSON (its letter is written: the failed job's
    // records all come after it)
    tracedLambdaEnvironment('true');
    const poison = kinesisEvent([{ raw: Buffer.from('{').toString('base64') }, { data: { n: 1 } }]);

    // When
    await runBatch(poison);

    // Then
    const batch = await batchDocument();
    expect(named('dead letters')).toMatchObject({
      parent_id: batch.id,
      annotations: { letters: 1, undelivered: 0 },
    });
    // The rejected record counts among the batch's records.
    expect(batch).toMatchObject({ annotations: { records: 2 } });
    expect(named('dead letters')).toHaveProperty('end_time');
  });

  test('marks the batch failed, with the cause, when the invocation throws', async () => {
    // Given: an event whose second record is not a Kinesis record
    tracedLambdaEnvironment('true');
    const [good] = kinesisEvent([{ data: { n: 1 } }]).Records;
    const event = { Records: [good, { eventSource: 'aws:sqs' }] } as unknown as Parameters<
      typeof runBatch
    >[0];

    // When
    await expect(runBatch(event)).rejects.toThrow('not a Kinesis event');

    // Then
    const batch = await batchDocument();
    expect(batch).toMatchObject({ fault: true });
    expect(JSON.stringify(batch.cause)).toContain('not a Kinesis event: Records[1]');
  });

  test('sends nothing when the pipeline has tracing off', async () => {
    // Given
    tracedLambdaEnvironment(undefined);

    // When
    await runBatch();
    // A traced batch in the same process proves the daemon would have received it by now.
    tracedLambdaEnvironment('true');
    await runBatch();
    await batchDocument();

    // Then
    expect(daemon.documents.filter((doc) => doc.name === 'driverless batch')).toHaveLength(1);
  });
});
