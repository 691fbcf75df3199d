// What the runtime does with answers the KPL de-aggregator library should never give, so that a
// change of library version cannot turn them into records: the library is replaced here.
import { bytes, memoryDeadLetters, microBatch } from 'driverless/runtime';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../../fixtures/kinesis-events';

type Done = (error: Error | null | undefined, records?: unknown[]) => void;
const answer: { next: (done: Done) => void } = { next: () => undefined };

jest.mock('aws-kinesis-agg/lib/kpl-deagg', () => ({
  deaggregateSync: (_record: unknown, _checksums: boolean, done: Done) => answer.next(done),
}));

/** A record the runtime takes for an aggregate: the KPL magic, then 20 bytes. */
const AGGREGATE = Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc2]), Buffer.alloc(20, 1)]);

async function decode(next: (done: Done) => void) {
  answer.next = next;
  const sink = memoryDeadLetters();
  const seen: [Buffer, number | undefined][] = [];
  const handler = microBatch({
    decode: bytes(),
    deadLetters: sink,
    jobs: {
      collect: ({ records }) =>
        void seen.push(
          ...records.map((r): [Buffer, number | undefined] => [
            Buffer.from(r.data),
            r.subSequenceNumber,
          ]),
        ),
    },
  });
  const response = await handler(
    kinesisEvent([{ raw: AGGREGATE.toString('base64') }]),
    lambdaContext(),
  );
  return { response, seen, letters: sink.letters };
}

describe('a KPL aggregate the de-aggregator answers oddly for', () => {
  it('dead-letters a sub-record whose data is not base64, with its sub-sequence number', async () => {
    // When
    const { seen, letters } = await decode((done) =>
      done(null, [
        { partitionKey: 'a', subSequenceNumber: 0, data: Buffer.from('ok').toString('base64') },
        { partitionKey: 'b', subSequenceNumber: 1, data: 'not base64!' },
      ]),
    );

    // Then
    expect(seen).toStrictEqual([[Buffer.from('ok'), 0]]);
    expect(letters).toMatchObject([
      { reason: 'invalid base64', subSequenceNumber: 1, partitionKey: 'b', data: 'not base64!' },
    ]);
  });

  it('hands a sub-record of no data to a bytes decoder as zero bytes', async () => {
    // When
    const { seen, letters } = await decode((done) =>
      done(null, [{ partitionKey: 'a', subSequenceNumber: 0, data: '' }]),
    );

    // Then
    expect(letters).toStrictEqual([]);
    expect(seen).toStrictEqual([[Buffer.alloc(0), 0]]);
  });

  it('dead-letters the aggregate whole when the de-aggregator answers with neither records nor an error', async () => {
    // When
    const { response, seen, letters } = await decode(() => undefined);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(seen).toStrictEqual([]);
    expect(letters).toMatchObject([
      { reason: 'invalid KPL aggregate', sequenceNumber: sequenceNumber(0) },
    ]);
    expect(letters[0]).not.toHaveProperty('subSequenceNumber');
  });
});
