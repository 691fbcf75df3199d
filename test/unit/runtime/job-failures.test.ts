import {
  type BatchResponse,
  json,
  type KinesisEvent,
  memoryCursors,
  memoryDeadLetters,
  microBatch,
  type StreamRecord,
} from 'driverless/runtime';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

type Item = { i: number };
type Failed = (records: readonly StreamRecord<Item>[]) => unknown[];
const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ data: { i: from + i } }));

/** Runs one batch through a handler whose job "picky" returns `{ failed: pick(records) }`. */
async function runPicky(
  pick: Failed,
  options: { cursors?: ReturnType<typeof memoryCursors>; event?: KinesisEvent } = {},
): Promise<{ response: BatchResponse; batchLine: Record<string, unknown> | undefined }> {
  // The logger reads its level when the handler is built.
  const level = process.env.POWERTOOLS_LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  const handler = microBatch({
    decode: json<Item>(),
    deadLetters: memoryDeadLetters(),
    ...(options.cursors ? { cursors: options.cursors } : {}),
    jobs: {
      fine: async () => undefined,
      picky: async ({ records }) => ({ failed: pick(records) as StreamRecord<Item>[] }),
    },
  });
  if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
  else process.env.POWERTOOLS_LOG_LEVEL = level;
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  let response: BatchResponse;
  try {
    response = await handler(options.event ?? kinesisEvent(items(3)), lambdaContext());
  } finally {
    spy.mockRestore();
  }
  const batchLine = chunks
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((line) => line.message === 'batch');
  return { response, batchLine };
}

describe("a job's { failed } entries", () => {
  const previous = kinesisEvent(items(3));
  let recordOfAnotherBatch: StreamRecord<Item> | undefined;
  beforeAll(async () => {
    // A record of an earlier invocation: same shard, same sequence number, another object.
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        keep: async ({ records }) => {
          recordOfAnotherBatch = records[1];
        },
      },
    });
    await handler(previous, lambdaContext());
  });

  const malformed: [string, Failed][] = [
    ['a record’s data', (records) => [records[1]?.data]],
    ['undefined', () => [undefined]],
    ['null', () => [null]],
    ['another object', () => [{ sequenceNumber: sequenceNumber(10) }]],
    ['a copy of a record', (records) => [{ ...records[1] }]],
    ['a record of another batch', () => [recordOfAnotherBatch]],
    ['the same record twice', (records) => [records[2], records[2]]],
    ['a number', () => [7]],
  ];

  it.each(malformed)(
    'fail every record of the job when one is %s, without cursors',
    async (_name, pick) => {
      // When
      const { response, batchLine } = await runPicky(pick);

      // Then: the job's first record, which is in the batch, and the job is reported failed
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
      });
      expect(batchLine?.batch).toMatchObject({
        jobs: { picky: { status: 'failed', records: 3, failed: 3 } },
      });
    },
  );

  it.each(malformed)(
    'fail every record of the job when one is %s, with per-job cursors',
    async (_name, pick) => {
      // Given
      const cursors = memoryCursors();

      // When
      const { response, batchLine } = await runPicky(pick, { cursors });

      // Then: no silent success, the job stays in the log line, and its cursor does not move
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
      });
      expect(batchLine?.batch).toMatchObject({
        jobs: { picky: { status: 'failed', records: 3, failed: 3 } },
      });
      expect(cursors.cursors.has(`${SHARD_ID}|picky`)).toBe(false);
      expect(cursors.cursors.has(`${SHARD_ID}|fine`)).toBe(true);
    },
  );

  it('name what is wrong in the job’s error', async () => {
    // When
    const { batchLine } = await runPicky((records) => [records[0], records[1]?.data]);

    // Then
    expect(batchLine?.batch).toMatchObject({
      jobs: {
        picky: {
          error: 'job "picky" returned { failed } whose entry 1 (object) is not one of its records',
        },
      },
    });
  });

  it('are checked against the records after the job’s cursor', async () => {
    // Given: "picky" committed record 0, so it is handed records 1 and 2
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'picky', undefined, { sequenceNumber: sequenceNumber(0) }, 'b');

    // When: it fails the last record it was given
    const { response, batchLine } = await runPicky((records) => [records[1]], { cursors });

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(20) }],
    });
    expect(batchLine?.batch).toMatchObject({
      jobs: { picky: { status: 'partial', records: 2, failed: 1 } },
    });
  });

  it('fail the records the job was given, not those behind its cursor, when malformed', async () => {
    // Given: "picky" committed record 0
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'picky', undefined, { sequenceNumber: sequenceNumber(0) }, 'b');

    // When
    const { response } = await runPicky((records) => [records[0]?.data], { cursors });

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }],
    });
  });

  it('may name records of a job’s own records in any order', async () => {
    // When
    const { response, batchLine } = await runPicky((records) => [records[2], records[1]]);

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }],
    });
    expect(batchLine?.batch).toMatchObject({
      jobs: { picky: { status: 'partial', records: 3, failed: 2 } },
    });
  });
});

describe('a job whose cursor cannot be read as a position', () => {
  it('fails its records instead of vanishing from the response', async () => {
    // Given: a cursor that is not a sequence number (a hand-edited or corrupt item)
    const cursors = memoryCursors();
    cursors.cursors.set(`${SHARD_ID}|picky`, { sequenceNumber: 'not-a-number' });

    // When
    const { response, batchLine } = await runPicky(() => [], { cursors });

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
    });
    expect(batchLine?.batch).toMatchObject({
      jobs: { picky: { status: 'failed', records: 3, failed: 3 } },
    });
  });
});
