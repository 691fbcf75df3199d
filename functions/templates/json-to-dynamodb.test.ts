import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MicroBatchHandler } from 'driverless/runtime';
import { invoke, kinesisEvent, sequenceNumber, setHandlerEnvironment } from 'driverless/testing';

/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

/** Stubs `send` of the DynamoDB document client: every write succeeds. */
function stubDocuments(): SendStub {
  return jest
    .spyOn(DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
}

const TABLE = 'products';
const ENTRY = './json-to-dynamodb';

const product = (id: string, price = 10) => ({
  id,
  name: `Product ${id}`,
  price,
  updatedAt: '2026-11-23T19:00:00.000Z',
});

describe('json-to-dynamodb template', () => {
  let handler: MicroBatchHandler;
  let documents: SendStub;

  beforeAll(async () => {
    // The handler reads its environment when imported, as on Lambda; dead letters go to a file
    // that `invoke` reads.
    setHandlerEnvironment({ TABLE_NAME: TABLE });
    ({ handler } = await import(ENTRY));
  });

  beforeEach(() => {
    documents = stubDocuments();
  });

  afterEach(() => jest.restoreAllMocks());

  it('puts each record as an item of TABLE_NAME, with the job signal', async () => {
    // Given
    const event = kinesisEvent([{ data: product('p1') }, { data: product('p2') }]);

    // When
    const { response } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(documents.mock.calls.map(([command]) => command)).toStrictEqual([
      expect.any(PutCommand),
      expect.any(PutCommand),
    ]);
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      { TableName: TABLE, Item: product('p1') },
      { TableName: TABLE, Item: product('p2') },
    ]);
    expect(documents.mock.calls[0]?.[1]?.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('writes only the last record of an id in a batch', async () => {
    // Given: p1 changes price twice in one batch
    const event = kinesisEvent([{ data: product('p1', 10) }, { data: product('p1', 12) }]);

    // When
    await invoke(handler, event);

    // Then
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      { TableName: TABLE, Item: product('p1', 12) },
    ]);
  });

  it('reports only the record whose write failed', async () => {
    // Given: the write of p2 is throttled
    documents.mockImplementation(async (command) => {
      if ((command.input.Item as { id: string }).id === 'p2') throw new Error('throttled');
      return {};
    });
    const event = kinesisEvent([
      { data: product('p1') },
      { data: product('p2') },
      { data: product('p3') },
    ]);

    // When
    const { response } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }] });
    expect(documents).toHaveBeenCalledTimes(3);
  });

  it('dead-letters a record that fails the schema and writes the others', async () => {
    // Given: the second record has a negative price
    const event = kinesisEvent([{ data: product('p1') }, { data: product('p2', -1) }]);

    // When
    const { response, deadLetters } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(documents.mock.calls.map(([command]) => command.input.Item)).toStrictEqual([
      product('p1'),
    ]);
    expect(deadLetters).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(1),
        reason: expect.stringContaining('schema: price'),
      }),
    ]);
  });

  it('fails if TABLE_NAME is not set, at import rather than on a batch', async () => {
    // Given
    const saved = process.env.TABLE_NAME;
    delete process.env.TABLE_NAME;

    // When / Then
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import(ENTRY)).rejects.toThrow('TABLE_NAME is not set');
      });
    } finally {
      process.env.TABLE_NAME = saved;
    }
  });
});
