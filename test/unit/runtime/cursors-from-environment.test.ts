import { cursorsFromEnvironment } from '../../../functions/runtime/cursors';
import {
  type FakeAwsEndpoint,
  fakeAwsEndpoint,
  useEndpoint,
} from '../../fixtures/fake-aws-endpoint';
import { SHARD_ID } from '../../fixtures/kinesis-events';

// The store the environment names makes its own DynamoDB client; these tests point the SDK at a
// local endpoint and read which cursors it asks for.
describe('cursorsFromEnvironment', () => {
  let endpoint: FakeAwsEndpoint;
  let restore: () => void;

  beforeAll(async () => {
    endpoint = await fakeAwsEndpoint();
  });
  afterAll(() => endpoint.close());
  beforeEach(() => {
    endpoint.received.length = 0;
    restore = useEndpoint(endpoint.url);
  });
  afterEach(() => restore());

  /** The cursor ids the store's first request asked the table for. */
  function idsAsked(): string[] {
    const { RequestItems } = JSON.parse(endpoint.received[0]?.body ?? '{}');
    return (RequestItems?.checkpoints?.Keys ?? []).map((key: { id: { S: string } }) => key.id.S);
  }

  it('is none when the environment names no checkpoint table', () => {
    // When / Then
    expect(cursorsFromEnvironment({}, 'fn')).toBeUndefined();
  });

  it("keeps the function's cursors apart from other functions' in the table it names", async () => {
    // Given
    const cursors = cursorsFromEnvironment({ DRIVERLESS_CHECKPOINT_TABLE: 'checkpoints' }, 'fn-a');

    // When
    await cursors?.load(SHARD_ID, ['job']);

    // Then
    expect(idsAsked()).toStrictEqual([`fn-a|${SHARD_ID}|job`]);
  });

  it('names the cursors of a process without a function name "local"', async () => {
    // Given
    const cursors = cursorsFromEnvironment(
      { DRIVERLESS_CHECKPOINT_TABLE: 'checkpoints' },
      undefined,
    );

    // When
    await cursors?.load(SHARD_ID, ['job']);

    // Then
    expect(idsAsked()).toStrictEqual([`local|${SHARD_ID}|job`]);
  });
});
