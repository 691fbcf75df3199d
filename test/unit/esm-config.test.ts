import { parseFunctionName } from '../../emulator/esm/startEventSourceMapping';
import { validateMappingConfig } from '../../emulator/esm/validateMappingConfig';
import { onFailureObjectKey } from '../../functions/kinesis/index';
import { mappingConfig } from '../fixtures/esm/mappingConfig';

const streamArn = 'arn:aws:kinesis:us-east-1:000000000000:stream/s';

describe('mapping configuration', () => {
  test('fails if values are out of range, naming each field, value and range', () => {
    // given
    const config = mappingConfig(streamArn, {
      batchSize: 0,
      maximumRecordAgeSeconds: 30,
      parallelizationFactor: 11,
    });
    // when / then
    expect(() => validateMappingConfig(config)).toThrow(
      'event source mapping Mapping is invalid: batchSize must be between 1 and 10000 (given 0); parallelizationFactor must be between 1 and 10 (given 11); maximumRecordAgeSeconds must be -1 or between 60 and 604800 (given 30)',
    );
  });

  test('fails if AT_TIMESTAMP has no timestamp', () => {
    // given
    const config = mappingConfig(streamArn, { startingPosition: 'AT_TIMESTAMP' });
    // when / then
    expect(() => validateMappingConfig(config)).toThrow(
      'startingPositionTimestamp is required with startingPosition AT_TIMESTAMP',
    );
  });

  test('fails if a filter pattern is not JSON (create is rejected)', () => {
    // given
    const config = mappingConfig(streamArn, { filters: ['data=1'] });
    // when / then
    expect(() => validateMappingConfig(config)).toThrow(
      'filters[0]: filter pattern must be a JSON object (given data=1)',
    );
  });

  test('accepts AWS defaults', () => {
    // when / then
    expect(() => validateMappingConfig(mappingConfig(streamArn))).not.toThrow();
  });

  test.each([
    ['f', undefined, { name: 'f', qualifier: undefined }],
    ['f:live', undefined, { name: 'f', qualifier: 'live' }],
    ['arn:aws:lambda:us-east-1:1:function:f:7', undefined, { name: 'f', qualifier: '7' }],
    ['f', 'live', { name: 'f', qualifier: 'live' }],
  ])('function name %s with qualifier %s', (name, qualifier, expected) => {
    // when / then
    expect(parseFunctionName(name, qualifier)).toStrictEqual(expected);
  });
});

describe('on-failure S3 key', () => {
  test('is aws/lambda/<uuid>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid> in UTC', () => {
    // when
    const key = onFailureObjectKey(
      'u-1',
      'shardId-000000000003',
      new Date('2026-03-04T05:06:07.089Z'),
    );
    // then
    expect(key).toMatch(
      /^aws\/lambda\/u-1\/shardId-000000000003\/2026\/03\/04\/2026-03-04T05\.06\.07-[0-9a-f-]{36}$/,
    );
  });
});
