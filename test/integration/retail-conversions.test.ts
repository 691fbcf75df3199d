/**
 * The example's conversion counter on a real DynamoDB API (dynalite): the join emits a result
 * again when a process is killed between `emit` and marking the result emitted, and the count of
 * a result must move once however many times, and after however many of its writes, it is emitted.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient, dynamoClient, startDynamo } from '../../emulator/index';
import { countConversion } from '../../functions/example/retail/tables';

const TABLE = 'conversions';
let server: Awaited<ReturnType<typeof startDynamo>>;
let reader: DynamoDBDocumentClient;

beforeAll(async () => {
  server = await startDynamo();
  // The example's client reads its endpoint, region and credentials from the environment.
  Object.assign(process.env, {
    CONVERSIONS_TABLE: TABLE,
    AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  await dynamoClient(server.endpoint).send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'productId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'productId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  reader = documentClient(server.endpoint);
});

afterEach(() => jest.restoreAllMocks());

afterAll(() => server.stop());

const product = async (productId: string) =>
  (
    await reader.send(
      new GetCommand({ TableName: TABLE, Key: { productId }, ConsistentRead: true }),
    )
  ).Item;

/** Fails the example's DynamoDB writes after `writes` of them, as a process killed there would. */
function killAfter(writes: number): void {
  const send = DynamoDBDocumentClient.prototype.send;
  let left = writes;
  jest.spyOn(DynamoDBDocumentClient.prototype, 'send').mockImplementation(function (
    this: DynamoDBDocumentClient,
    ...args: Parameters<typeof send>
  ) {
    if (this !== reader && left-- <= 0) return Promise.reject(new Error('killed'));
    return send.apply(this, args);
  } as typeof send);
}

describe('the example conversion counter', () => {
  it('counts a match emitted twice once, and another match of the product again', async () => {
    // Given: a match counted
    await countConversion('p1', true, 'shard-a:1|shard-b:7');

    // When: it is emitted again, and another match follows
    await countConversion('p1', true, 'shard-a:1|shard-b:7');
    await countConversion('p1', true, 'shard-a:2|shard-b:7');

    // Then
    expect(await product('p1')).toStrictEqual({ productId: 'p1', converted: 2 });
  });

  it('counts an outer result apart from the matches, once', async () => {
    // Given / When
    await countConversion('p2', true, 'shard-a:3|shard-b:8');
    await countConversion('p2', false, 'shard-a:4|');
    await countConversion('p2', false, 'shard-a:4|');

    // Then
    expect(await product('p2')).toStrictEqual({ productId: 'p2', converted: 1, notConverted: 1 });
  });

  it.each([0, 1, 2, 3])(
    'counts a match once when the attempt that emitted it was killed after %i writes',
    async (writes) => {
      // Given: an attempt killed after some of its writes
      const productId = `killed-after-${writes}`;
      const resultId = `shard-a:${10 + writes}|shard-b:9`;
      killAfter(writes);
      await expect(countConversion(productId, true, resultId)).rejects.toThrow('killed');
      jest.restoreAllMocks();

      // When: the runtime emits the match again
      await countConversion(productId, true, resultId);

      // Then: counted once, and no id left in the product's set of ids being counted
      expect(await product(productId)).toStrictEqual({ productId, converted: 1 });
    },
  );
});
