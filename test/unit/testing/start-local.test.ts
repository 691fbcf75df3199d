import { startLocal } from 'driverless/testing';
import { localStackEndpoint } from '../../../testing/localstack-pipeline';

describe('startLocal', () => {
  it('fails if neither app nor assembly is given, starting nothing', async () => {
    // When / Then
    await expect(startLocal({})).rejects.toThrow(
      'startLocal: give exactly one of app (a CDK project directory) and assembly (a cdk.out directory) (given neither)',
    );
  });

  it('fails listing every problem at once', async () => {
    // When / Then
    await expect(
      startLocal({
        app: '.',
        assembly: 'cdk.out',
        pollIntervalMs: 0,
        endpoint: 'http://localhost:4566',
      }),
    ).rejects.toThrow(
      'startLocal: give exactly one of app (a CDK project directory) and assembly (a cdk.out directory) (given both); ' +
        'endpoint goes with target: localstack; pollIntervalMs must be 1 or more (given 0)',
    );
  });

  it('fails on LocalStack naming the endpoint it could not read the app from', async () => {
    // Given: nothing listens on this port
    const endpoint = 'http://127.0.0.1:9';

    // When / Then
    await expect(startLocal({ target: 'localstack', endpoint })).rejects.toThrow(
      /^cannot read the app on LocalStack at http:\/\/127\.0\.0\.1:9 \(is LocalStack running, and the app deployed with cdklocal\?\): /,
    );
  });
});

describe('localStackEndpoint', () => {
  it.each([
    [{ endpoint: 'http://ls:1' }, { LOCALSTACK_ENDPOINT: 'http://a:2' }, 'http://ls:1'],
    [{}, { LOCALSTACK_ENDPOINT: 'http://a:2', AWS_ENDPOINT_URL: 'http://b:3' }, 'http://a:2'],
    [{}, { AWS_ENDPOINT_URL: 'http://b:3' }, 'http://b:3'],
    [{}, {}, 'http://localhost:4566'],
  ])(
    'takes the option, then LOCALSTACK_ENDPOINT, then AWS_ENDPOINT_URL (%j, %j)',
    (options, env, expected) => {
      // When / Then
      expect(localStackEndpoint(options, env)).toBe(expected);
    },
  );
});
