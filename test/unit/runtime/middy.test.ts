import type { MiddlewareObj } from '@middy/core';
import {
  type BatchResponse,
  type DeadLetter,
  json,
  type KinesisEvent,
  microBatch,
} from 'driverless/runtime';
import {
  deferred,
  kinesisEvent,
  lambdaContext,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

describe('the handler', () => {
  it('is a middy handler that takes middleware', async () => {
    // Given
    const seen: string[] = [];
    const middleware: MiddlewareObj<KinesisEvent, BatchResponse> = {
      before: (request) => void seen.push(`before:${request.event.Records.length}`),
      after: (request) => void seen.push(`after:${request.response?.batchItemFailures.length}`),
    };
    const handler = microBatch({
      decode: json(),
      deadLetters: { send: async () => [] },
      jobs: { a: async () => void seen.push('job') },
    }).use(middleware);

    // When
    await handler(kinesisEvent([{ data: {} }, { data: {} }]), lambdaContext());

    // Then
    expect(seen).toStrictEqual(['before:2', 'job', 'after:0']);
  });

  it('never mixes records, failures or dead letters of two overlapping invocations', async () => {
    // Given: invocation A is held inside its job until B has finished
    const letters: DeadLetter[][] = [];
    const release = deferred();
    const handler = microBatch({
      decode: json<{ batch: string; fail: boolean }>(),
      deadLetters: {
        send: async (batch) => {
          letters.push([...batch]);
          return [];
        },
      },
      jobs: {
        work: async ({ records }) => {
          if (records[0]?.data.batch === 'A') await release.promise;
          return { failed: records.filter((r) => r.data.fail) };
        },
      },
    });
    const eventA = kinesisEvent(
      [
        { data: { batch: 'A', fail: false } },
        { raw: 'QUFB' },
        { data: { batch: 'A', fail: true } },
      ],
      { start: 0 },
    );
    const eventB = kinesisEvent([{ raw: 'QkJC' }, { data: { batch: 'B', fail: true } }], {
      start: 1000,
    });

    // When
    const pendingA = handler(eventA, lambdaContext());
    const responseB = await handler(eventB, lambdaContext());
    release.resolve();
    const responseA = await pendingA;

    // Then
    expect(responseA).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(20) }],
    });
    expect(responseB).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(1010) }],
    });
    expect(letters.map((batch) => batch.map((letter) => letter.data)).sort()).toStrictEqual([
      ['QUFB'],
      ['QkJC'],
    ]);
  });
});
