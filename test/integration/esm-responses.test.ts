/**
 * Conformance: partial batch responses, retries, bisect, record age and on-failure destinations
 * (docs/event-source-mapping.md#error-handling,
 * #on-failure-record), against real kinesalite and fauxqs (SQS + S3).
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { KinesisWindowEvent } from '../../functions/kinesis/index';
import { eventually, fakeFunction, type Reply, waitFor } from '../fixtures/esm/fakeInvoke';
import { type FauxqsTestServer, startFauxqs } from '../fixtures/esm/fauxqsServer';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  accountId,
  createStream,
  type KinesisTestServer,
  type PutOutput,
  putRecords,
  region,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';
import { mappingConfig } from '../fixtures/esm/mappingConfig';

jest.setTimeout(30_000);

let server: KinesisTestServer;
let aws: FauxqsTestServer;

beforeAll(async () => {
  [server, aws] = await Promise.all([startKinesalite(), startFauxqs()]);
});
afterEach(stopAllMappings);
afterAll(async () => {
  await Promise.all([server.close(), aws.close()]);
});

/** A fresh stream holding `count` records, and their sequence numbers in order. */
async function streamWith(count: number): Promise<{ arn: string; name: string; seqs: string[] }> {
  const stream = await createStream(server.kinesis);
  const puts: PutOutput[] = await putRecords(
    server.kinesis,
    stream.name,
    Array.from({ length: count }, (_, i) => ({ partitionKey: `k${i}`, data: { i } })),
  );
  return { ...stream, seqs: puts.map((p) => p.sequenceNumber) };
}

let queueCounter = 0;
async function queue(): Promise<{ arn: string; url: string }> {
  queueCounter += 1;
  return aws.createQueue(`esm-dlq-${queueCounter}`);
}

async function receiveAll(url: string, count: number): Promise<unknown[]> {
  const bodies: unknown[] = [];
  const deadline = Date.now() + 10_000;
  while (bodies.length < count && Date.now() < deadline) {
    const out = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of out.Messages ?? []) bodies.push(JSON.parse(m.Body ?? 'null'));
  }
  return bodies;
}

const functionArn = `arn:aws:lambda:${region}:${accountId}:function:consumer`;
const isoMs = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const uuid = expect.stringMatching(/^[0-9a-f-]{36}$/);

/**
 * Puts one more record and waits until the function has processed it. A shard is processed in
 * order, so any retry or extra invocation of the records before it would come first: once this
 * record is checkpointed, nothing else is going to happen to them.
 */
async function settle(
  stream: { name: string },
  checkpoints: () => readonly { sequenceNumbers: string[] }[],
): Promise<string> {
  const [marker] = await putRecords(server.kinesis, stream.name, [
    { partitionKey: 'marker', data: { marker: true } },
  ]);
  const sequenceNumber = marker?.sequenceNumber ?? '';
  await waitFor(() => checkpoints().some((c) => c.sequenceNumbers.includes(sequenceNumber)));
  return sequenceNumber;
}

/** Replies from a list, then succeeds. */
function scripted(...replies: Reply[]) {
  return fakeFunction((_event, call) => replies[call] ?? { payload: null });
}

describe('partial batch responses', () => {
  const successForms: [string, unknown][] = [
    ['an empty list', { batchItemFailures: [] }],
    ['a null list', { batchItemFailures: null }],
    ['an empty object', {}],
    ['a null response', null],
    ['an empty string', ''],
    ['a bare array', []],
    ['a misspelt top-level key', { failedItems: [{ itemIdentifier: '1' }] }],
  ];
  test.each(successForms)('%s is a complete success', async (_name, payload) => {
    // given
    const stream = await streamWith(3);
    const fn = scripted({ payload });
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { reportBatchItemFailures: true }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    const marker = await settle(stream, () => eventsOf('recordsCheckpointed'));
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, [marker]]);
    expect(eventsOf('recordsCheckpointed')[0]?.sequenceNumbers).toStrictEqual(stream.seqs);
  });

  const failureForms: [string, (seqs: string[]) => unknown][] = [
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    ['a null itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: null }] })],
    ['a bad key name', () => ({ batchItemFailures: [{ foo: 123 }] })],
    ['a bad key name with null', () => ({ batchItemFailures: [{ foo: null }] })],
    [
      'a numeric identifier not in the batch',
      () => ({ batchItemFailures: [{ itemIdentifier: 123 }] }),
    ],
    [
      'a string identifier not in the batch (chosen: failure)',
      () => ({
        batchItemFailures: [
          { itemIdentifier: '49590338271490256608559692538361571095921575989136588898' },
        ],
      }),
    ],
  ];
  test.each(failureForms)('%s fails the whole batch', async (_name, payload) => {
    // given
    const stream = await streamWith(3);
    const fn = scripted({ payload: payload(stream.seqs) });
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { reportBatchItemFailures: true }),
      fn,
    );
    await waitFor(() => fn.calls.length === 2);
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, stream.seqs]);
    expect(eventsOf('batchResult')[0]?.outcome).toBe('error');
  });

  test('the lowest reported sequence number is the checkpoint; later records are retried', async () => {
    // given
    const stream = await streamWith(5);
    const [s0, s1, s2, s3, s4] = stream.seqs as [string, string, string, string, string];
    const fn = scripted({
      payload: { batchItemFailures: [{ itemIdentifier: s3 }, { itemIdentifier: s1 }] },
    });
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { reportBatchItemFailures: true }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 2);
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, [s1, s2, s3, s4]]);
    expect(eventsOf('recordsCheckpointed').map((e) => e.sequenceNumbers)).toStrictEqual([
      [s0],
      [s1, s2, s3, s4],
    ]);
  });

  test('responses are ignored without ReportBatchItemFailures', async () => {
    // given
    const stream = await streamWith(3);
    const fn = scripted({ payload: { batchItemFailures: [{ itemIdentifier: stream.seqs[1] }] } });
    // when
    const { eventsOf } = startMapping(server, mappingConfig(stream.arn), fn);
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    const marker = await settle(stream, () => eventsOf('recordsCheckpointed'));
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, [marker]]);
  });
});

describe('retries', () => {
  test('a function error retries the whole batch', async () => {
    // given
    const stream = await streamWith(3);
    const fn = scripted({ functionError: 'Unhandled', payload: { errorMessage: 'boom' } });
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { reportBatchItemFailures: true }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, stream.seqs]);
  });

  test.each([
    [1, 2],
    [2, 3],
  ])(
    'MaximumRetryAttempts %i gives approximateInvokeCount %i, then the SQS on-failure record',
    async (maximumRetryAttempts, count) => {
      // given
      const stream = await streamWith(2);
      const dlq = await queue();
      const fn = fakeFunction(() => ({
        functionError: 'Unhandled',
        payload: { errorMessage: 'x' },
      }));
      // when
      startMapping(
        server,
        mappingConfig(stream.arn, {
          maximumRetryAttempts,
          onFailure: { kind: 'sqs', arn: dlq.arn },
        }),
        fn,
        { sqs: aws.sqs },
      );
      const [message] = await receiveAll(dlq.url, 1);
      // then
      expect(fn.calls).toHaveLength(count);
      expect(message).toStrictEqual({
        requestContext: {
          requestId: uuid,
          functionArn,
          condition: 'RetryAttemptsExhausted',
          approximateInvokeCount: count,
        },
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          functionError: 'Unhandled',
        },
        version: '1.0',
        timestamp: isoMs,
        KinesisBatchInfo: {
          shardId: 'shardId-000000000000',
          startSequenceNumber: stream.seqs[0],
          endSequenceNumber: stream.seqs[1],
          approximateArrivalOfFirstRecord: isoMs,
          approximateArrivalOfLastRecord: isoMs,
          batchSize: 2,
          streamArn: stream.arn,
        },
      });
    },
  );

  test('partial-response retries use up MaximumRetryAttempts (3 retries: count 4)', async () => {
    // given: the last record always fails
    const stream = await streamWith(3);
    const last = stream.seqs[2] as string;
    const dlq = await queue();
    const fn = fakeFunction(() => ({ payload: { batchItemFailures: [{ itemIdentifier: last }] } }));
    // when
    startMapping(
      server,
      mappingConfig(stream.arn, {
        maximumRetryAttempts: 3,
        reportBatchItemFailures: true,
        onFailure: { kind: 'sqs', arn: dlq.arn },
      }),
      fn,
      { sqs: aws.sqs },
    );
    const [message] = (await receiveAll(dlq.url, 1)) as {
      requestContext: { approximateInvokeCount: number };
      responseContext: { functionError: null };
      KinesisBatchInfo: { batchSize: number; startSequenceNumber: string };
    }[];
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, [last], [last], [last]]);
    expect([
      message?.requestContext.approximateInvokeCount,
      message?.responseContext.functionError,
      message?.KinesisBatchInfo.batchSize,
      message?.KinesisBatchInfo.startSequenceNumber,
    ]).toStrictEqual([4, null, 1, last]);
  });

  test('after discarding, processing continues with the next records', async () => {
    // given: the first record is poison
    const stream = await streamWith(3);
    const poison = stream.seqs[0] as string;
    const fn = fakeFunction((event) =>
      event.Records.some((r) => r.kinesis.sequenceNumber === poison)
        ? { functionError: 'Unhandled' }
        : { payload: null },
    );
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { batchSize: 1, maximumRetryAttempts: 0 }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 2);
    // then
    expect(eventsOf('recordsDiscarded').map((e) => [e.sequenceNumbers, e.delivered])).toStrictEqual(
      [[[poison], false]],
    );
    expect(eventsOf('recordsCheckpointed').flatMap((e) => e.sequenceNumbers)).toStrictEqual(
      stream.seqs.slice(1),
    );
  });

  test('errors invoking the function (before invocation) are retried without using retries', async () => {
    // given: the function host refuses twice
    const stream = await streamWith(1);
    let refusals = 0;
    const fn = fakeFunction();
    const flaky = {
      ...fn,
      invoke: async (...args: Parameters<typeof fn.invoke>) => {
        if (refusals < 2) {
          refusals += 1;
          throw new Error('TooManyRequestsException: Rate exceeded');
        }
        return fn.invoke(...args);
      },
    };
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, { maximumRetryAttempts: 0 }),
      flaky,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 1);
    // then
    expect(eventsOf('error').map((e) => e.stage)).toStrictEqual(['invoke', 'invoke']);
    expect(eventsOf('recordsDiscarded')).toStrictEqual([]);
  });
});

describe('bisect on function error', () => {
  test('a failing batch is halved, first half first, down to the poison record; splits use no retries', async () => {
    // given: record 3 of 4 always fails; no retries allowed; ReportBatchItemFailures on as well
    const stream = await streamWith(4);
    const [s0, s1, s2, s3] = stream.seqs as [string, string, string, string];
    const dlq = await queue();
    const fn = fakeFunction((event) =>
      event.Records.some((r) => r.kinesis.sequenceNumber === s2)
        ? { functionError: 'Unhandled' }
        : { payload: null },
    );
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, {
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
        maximumRetryAttempts: 0,
        onFailure: { kind: 'sqs', arn: dlq.arn },
      }),
      fn,
      { sqs: aws.sqs },
    );
    const [message] = (await receiveAll(dlq.url, 1)) as {
      requestContext: { approximateInvokeCount: number };
      KinesisBatchInfo: { startSequenceNumber: string; batchSize: number };
    }[];
    await waitFor(() => eventsOf('recordsCheckpointed').length === 2);
    // then
    expect(fn.batches()).toStrictEqual([[s0, s1, s2, s3], [s0, s1], [s2, s3], [s2], [s3]]);
    expect([
      message?.KinesisBatchInfo.startSequenceNumber,
      message?.KinesisBatchInfo.batchSize,
      message?.requestContext.approximateInvokeCount,
    ]).toStrictEqual([s2, 1, 3]);
  });

  test('with ReportBatchItemFailures, a partial response splits at the returned sequence number', async () => {
    // given
    const stream = await streamWith(4);
    const [, , s2, s3] = stream.seqs as [string, string, string, string];
    const fn = scripted({ payload: { batchItemFailures: [{ itemIdentifier: s2 }] } });
    // when
    const { eventsOf } = startMapping(
      server,
      mappingConfig(stream.arn, {
        bisectBatchOnFunctionError: true,
        reportBatchItemFailures: true,
      }),
      fn,
    );
    await waitFor(() => eventsOf('recordsCheckpointed').length === 2);
    // then
    expect(fn.batches()).toStrictEqual([stream.seqs, [s2, s3]]);
  });
});

describe('maximum record age', () => {
  test('expired records go to the destination alone; the function gets the fresh ones', async () => {
    // given: one record, then five more 200 ms later; the clock is set so only the first is too old
    const stream = await createStream(server.kinesis);
    const [old] = await putRecords(server.kinesis, stream.name, [{ partitionKey: 'o', data: 0 }]);
    const threshold = Date.now() + 100;
    await new Promise((r) => setTimeout(r, 200));
    const fresh = await putRecords(
      server.kinesis,
      stream.name,
      Array.from({ length: 5 }, (_, i) => ({ partitionKey: `f${i}`, data: i })),
    );
    const dlq = await queue();
    const fn = fakeFunction();
    // when
    startMapping(
      server,
      mappingConfig(stream.arn, {
        maximumRecordAgeSeconds: 60,
        onFailure: { kind: 'sqs', arn: dlq.arn },
      }),
      fn,
      { sqs: aws.sqs, tuning: { now: () => threshold + 60_000 } },
    );
    const [message] = await receiveAll(dlq.url, 1);
    await waitFor(() => fn.calls.length === 1);
    // then
    expect(fn.batches()).toStrictEqual([fresh.map((p) => p.sequenceNumber)]);
    expect(message).toStrictEqual({
      requestContext: {
        requestId: uuid,
        functionArn,
        condition: 'RecordAgeExceeded',
        approximateInvokeCount: 1,
      },
      version: '1.0',
      timestamp: isoMs,
      KinesisBatchInfo: {
        shardId: 'shardId-000000000000',
        startSequenceNumber: old?.sequenceNumber,
        endSequenceNumber: old?.sequenceNumber,
        approximateArrivalOfFirstRecord: isoMs,
        approximateArrivalOfLastRecord: isoMs,
        batchSize: 1,
        streamArn: stream.arn,
      },
    });
  });
});

describe('S3 on-failure destination', () => {
  test('writes metadata plus the invocation event as payload under the AWS key layout', async () => {
    // given
    const stream = await streamWith(2);
    const bucket = await aws.createBucket('esm-failures');
    const fn = fakeFunction(() => ({ functionError: 'Unhandled', payload: { errorMessage: 'x' } }));
    const config = mappingConfig(stream.arn, {
      maximumRetryAttempts: 0,
      functionName: 'consumer:live',
      onFailure: { kind: 's3', arn: bucket.arn },
    });
    // when
    startMapping(server, config, fn, { s3: aws.s3 });
    const keys = await eventually(async () => {
      const out = await aws.s3.send(new ListObjectsV2Command({ Bucket: 'esm-failures' }));
      return (out.Contents ?? []).map((c) => c.Key ?? '');
    });
    // then
    const key = keys[0] as string;
    expect(key).toMatch(
      new RegExp(
        `^aws/lambda/${config.uuid}/shardId-000000000000/\\d{4}/\\d\\d/\\d\\d/\\d{4}-\\d\\d-\\d\\dT\\d\\d\\.\\d\\d\\.\\d\\d-[0-9a-f-]{36}$`,
      ),
    );
    const object = await aws.s3.send(new GetObjectCommand({ Bucket: 'esm-failures', Key: key }));
    const body = JSON.parse((await object.Body?.transformToString()) ?? '') as {
      payload: string;
      requestContext: { functionArn: string };
      responseContext: unknown;
    };
    expect(JSON.parse(body.payload) as KinesisWindowEvent).toStrictEqual(fn.calls[0]?.event);
    expect(body.requestContext.functionArn).toBe(`${functionArn}:live`);
    expect(body.responseContext).toStrictEqual({
      statusCode: 200,
      executedVersion: '$LATEST',
      functionError: 'Unhandled',
    });
  });
});
