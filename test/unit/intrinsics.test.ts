import {
  createTemplateResolver,
  deterministicUuid,
  LOCAL_CONSUMER_EPOCH,
  parseFunctionReference,
  type Template,
  type TemplateResource,
} from '../../emulator/intrinsics';

const ENV = {
  stackName: 'Shop',
  region: 'us-east-1',
  accountId: '000000000000',
  sqsEndpoint: 'http://127.0.0.1:4566',
};
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/shop-views';

/** A template with one resource of each kind the resolver names, plus the given extras. */
function template(
  extra: Partial<Template> & { resources?: Record<string, TemplateResource> } = {},
): Template {
  return {
    Resources: {
      Views: { Type: 'AWS::Kinesis::Stream', Properties: { Name: 'shop-views', ShardCount: 2 } },
      Fanout: {
        Type: 'AWS::Kinesis::StreamConsumer',
        Properties: { ConsumerName: 'fanout', StreamARN: { 'Fn::GetAtt': ['Views', 'Arn'] } },
      },
      Results: { Type: 'AWS::DynamoDB::Table', Properties: {} },
      DeadLetters: { Type: 'AWS::SQS::Queue' },
      Ordered: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
      Archive: { Type: 'AWS::S3::Bucket' },
      Handler: { Type: 'AWS::Lambda::Function', Properties: {} },
      HandlerV1: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Handler' } } },
      HandlerV2: { Type: 'AWS::Lambda::Version', Properties: { FunctionName: { Ref: 'Handler' } } },
      Live: {
        Type: 'AWS::Lambda::Alias',
        Properties: {
          Name: 'live',
          FunctionName: { Ref: 'Handler' },
          FunctionVersion: { 'Fn::GetAtt': ['HandlerV2', 'Version'] },
        },
      },
      ...extra.resources,
    },
    ...(extra.Conditions ? { Conditions: extra.Conditions } : {}),
    ...(extra.Parameters ? { Parameters: extra.Parameters } : {}),
    ...(extra.Mappings ? { Mappings: extra.Mappings } : {}),
  };
}

function resolve(value: unknown, extra?: Parameters<typeof template>[0]): unknown {
  return createTemplateResolver(template(extra), ENV).resolve(value, 'Test');
}

describe('Ref', () => {
  it.each([
    ['a stream to its name', 'Views', 'shop-views'],
    ['a table without a name to <stack>-<logicalId> lowercased', 'Results', 'shop-results'],
    [
      'a queue to its URL on the local SQS server',
      'DeadLetters',
      'http://127.0.0.1:4566/000000000000/shop-deadletters',
    ],
    [
      'a FIFO queue to a URL ending in .fifo',
      'Ordered',
      'http://127.0.0.1:4566/000000000000/shop-ordered.fifo',
    ],
    ['a bucket to its name', 'Archive', 'shop-archive'],
    ['a function to its name', 'Handler', 'shop-handler'],
    [
      'an alias to its ARN',
      'Live',
      'arn:aws:lambda:us-east-1:000000000000:function:shop-handler:live',
    ],
    [
      'a version to its ARN, numbered in template order',
      'HandlerV2',
      'arn:aws:lambda:us-east-1:000000000000:function:shop-handler:2',
    ],
    ['a consumer to its ARN', 'Fanout', `${STREAM_ARN}/consumer/fanout:${LOCAL_CONSUMER_EPOCH}`],
  ])('resolves %s', (_name, logicalId, expected) => {
    // Given / When
    const value = resolve({ Ref: logicalId });

    // Then
    expect(value).toBe(expected);
  });

  it.each([
    ['AWS::Region', 'us-east-1'],
    ['AWS::AccountId', '000000000000'],
    ['AWS::Partition', 'aws'],
    ['AWS::URLSuffix', 'amazonaws.com'],
    ['AWS::StackName', 'Shop'],
  ])('resolves the pseudo parameter %s', (name, expected) => {
    // Given / When
    const value = resolve({ Ref: name });

    // Then
    expect(value).toBe(expected);
  });

  it('resolves a parameter to its default', () => {
    // Given
    const Parameters = { Stage: { Type: 'String', Default: 'dev' } };

    // When
    const value = resolve({ Ref: 'Stage' }, { Parameters });

    // Then
    expect(value).toBe('dev');
  });

  it('removes a property set to AWS::NoValue', () => {
    // Given / When
    const value = resolve({ Kept: 1, Dropped: { Ref: 'AWS::NoValue' } });

    // Then
    expect(value).toStrictEqual({ Kept: 1 });
  });

  it('fails if the resource does not exist', () => {
    // Given / When / Then
    expect(() => resolve({ Ref: 'Missing' })).toThrow(
      'Test.Ref: unknown resource or parameter "Missing"',
    );
  });
});

describe('Fn::GetAtt', () => {
  it.each([
    ['Views', 'Arn', STREAM_ARN],
    ['Fanout', 'ConsumerARN', `${STREAM_ARN}/consumer/fanout:${LOCAL_CONSUMER_EPOCH}`],
    ['Fanout', 'ConsumerName', 'fanout'],
    ['Fanout', 'StreamARN', STREAM_ARN],
    ['Results', 'Arn', 'arn:aws:dynamodb:us-east-1:000000000000:table/shop-results'],
    ['DeadLetters', 'Arn', 'arn:aws:sqs:us-east-1:000000000000:shop-deadletters'],
    ['DeadLetters', 'QueueName', 'shop-deadletters'],
    ['DeadLetters', 'QueueUrl', 'http://127.0.0.1:4566/000000000000/shop-deadletters'],
    ['Archive', 'Arn', 'arn:aws:s3:::shop-archive'],
    ['Handler', 'Arn', 'arn:aws:lambda:us-east-1:000000000000:function:shop-handler'],
    ['HandlerV1', 'Version', '1'],
    ['Live', 'AliasArn', 'arn:aws:lambda:us-east-1:000000000000:function:shop-handler:live'],
  ])('resolves %s.%s', (logicalId, attribute, expected) => {
    // Given / When
    const list = resolve({ 'Fn::GetAtt': [logicalId, attribute] });
    const dotted = resolve({ 'Fn::GetAtt': `${logicalId}.${attribute}` });

    // Then
    expect([list, dotted]).toStrictEqual([expected, expected]);
  });

  it('fails if the attribute is not known for the type', () => {
    // Given / When / Then
    expect(() => resolve({ 'Fn::GetAtt': ['Views', 'Nope'] })).toThrow(
      'Fn::GetAtt Views.Nope is not supported locally (AWS::Kinesis::Stream)',
    );
  });

  it('fails if two names refer to each other', () => {
    // Given
    const resources: Record<string, TemplateResource> = {
      A: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: { 'Fn::GetAtt': ['B', 'QueueName'] } },
      },
      B: {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: { 'Fn::GetAtt': ['A', 'QueueName'] } },
      },
    };

    // When / Then
    expect(() => resolve({ Ref: 'A' }, { resources })).toThrow('circular reference through "A"');
  });
});

describe('string functions', () => {
  it('joins resolved values', () => {
    // Given / When
    const value = resolve({ 'Fn::Join': ['/', ['a', { Ref: 'Views' }, 3]] });

    // Then
    expect(value).toBe('a/shop-views/3');
  });

  it('substitutes resources, attributes and pseudo parameters', () => {
    // Given / When
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
    const value = resolve({ 'Fn::Sub': '${Views}|${Views.Arn}|${AWS::Region}|${!Literal}' });

    // Then
    expect(value).toBe(`shop-views|${STREAM_ARN}|us-east-1|\${Literal}`);
  });

  it('substitutes from a variable map first', () => {
    // Given / When
    const value = resolve({
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub syntax, not a JS template
      'Fn::Sub': ['${Views}-${Suffix}', { Suffix: { Ref: 'AWS::AccountId' } }],
    });

    // Then
    expect(value).toBe('shop-views-000000000000');
  });

  it('selects from a split, as CDK does to take a function name out of an alias ARN', () => {
    // Given
    const expression = {
      'Fn::Join': ['', [{ 'Fn::Select': [6, { 'Fn::Split': [':', { Ref: 'Live' }] }] }, ':live']],
    };

    // When
    const value = resolve(expression);

    // Then
    expect(value).toBe('shop-handler:live');
  });

  it('fails if Fn::Select is out of range', () => {
    // Given / When / Then
    expect(() => resolve({ 'Fn::Select': [2, ['a', 'b']] })).toThrow(
      'index 2 is out of range for 2 items',
    );
  });

  it('looks values up in Mappings', () => {
    // Given
    const Mappings = { Sizes: { small: { shards: 1 } } };

    // When
    const value = resolve({ 'Fn::FindInMap': ['Sizes', 'small', 'shards'] }, { Mappings });

    // Then
    expect(value).toBe(1);
  });

  it('fails on cross-stack imports', () => {
    // Given / When / Then
    expect(() => resolve({ 'Fn::ImportValue': 'Other:Arn' })).toThrow('Fn::ImportValue');
  });
});

describe('conditions', () => {
  const Conditions = {
    IsChina: {
      'Fn::Or': [
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'cn-north-1'] },
        { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'cn-northwest-1'] },
      ],
    },
    NotChina: { 'Fn::Not': [{ Condition: 'IsChina' }] },
  };

  it('takes the false branch of Fn::If, as CDK streams encryption outside China', () => {
    // Given
    const expression = {
      'Fn::If': [
        'IsChina',
        { Ref: 'AWS::NoValue' },
        { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      ],
    };

    // When
    const value = resolve({ StreamEncryption: expression }, { Conditions });

    // Then
    expect(value).toStrictEqual({
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it('excludes resources whose condition is false', () => {
    // Given
    const resources: Record<string, TemplateResource> = {
      ChinaOnly: { Type: 'AWS::SQS::Queue', Condition: 'IsChina' },
      Elsewhere: { Type: 'AWS::SQS::Queue', Condition: 'NotChina' },
    };
    const resolver = createTemplateResolver(template({ resources, Conditions }), ENV);

    // When
    const included = [resolver.isIncluded('ChinaOnly'), resolver.isIncluded('Elsewhere')];

    // Then
    expect(included).toStrictEqual([false, true]);
  });
});

describe('helpers', () => {
  it('derives the same UUID from the same parts, and another from others', () => {
    // Given / When
    const [a, again, b] = [
      deterministicUuid('Shop', 'Esm'),
      deterministicUuid('Shop', 'Esm'),
      deterministicUuid('Shop', 'Esm2'),
    ];

    // Then
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([again === a, b === a]).toStrictEqual([true, false]);
  });

  it.each([
    ['fn', { functionName: 'fn' }],
    ['fn:live', { functionName: 'fn', qualifier: 'live' }],
    ['arn:aws:lambda:us-east-1:000000000000:function:fn', { functionName: 'fn' }],
    ['arn:aws:lambda:us-east-1:000000000000:function:fn:7', { functionName: 'fn', qualifier: '7' }],
  ])('parses the function reference %s', (reference, expected) => {
    // Given / When
    const parsed = parseFunctionReference(reference);

    // Then
    expect(parsed).toStrictEqual(expected);
  });
});
