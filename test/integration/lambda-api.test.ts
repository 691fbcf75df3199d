import { request } from 'node:http';
import {
  GetFunctionCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ListEventSourceMappingsCommand,
  ListFunctionsCommand,
} from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { ESM_DEFAULTS } from '../../emulator/assembly';
import { FunctionHost } from '../../emulator/functions';
import { type LambdaApi, startLambdaApi } from '../../emulator/lambda-api';
import type { EventSourceMappingConfig } from '../../emulator/model';
import { localFunction } from '../fixtures/function-host/local-function';

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';

function mapping(overrides: Partial<EventSourceMappingConfig> = {}): EventSourceMappingConfig {
  return {
    logicalId: 'OrdersMapping',
    uuid: '7c8d2a52-0000-4000-8000-000000000001',
    functionName: 'echo:live',
    functionQualifier: 'live',
    eventSourceArn: STREAM_ARN,
    streamArn: STREAM_ARN,
    ...ESM_DEFAULTS,
    startingPosition: 'TRIM_HORIZON',
    filters: [],
    reportBatchItemFailures: true,
    ...overrides,
  };
}

interface RawAnswer {
  status: number;
  errorType: string | undefined;
  allowOrigin: string | undefined;
  body: string;
}

/** One request to the API with exactly the headers given, as a browser page would send it. */
function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body = '',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method, path, headers }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.on('end', () =>
        resolve({
          status: answer.statusCode ?? 0,
          errorType: answer.headers['x-amzn-errortype'] as string | undefined,
          allowOrigin: answer.headers['access-control-allow-origin'] as string | undefined,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

function payloadOf(output: InvokeCommandOutput): unknown {
  return JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8'));
}

describe('Lambda API', () => {
  const logLines: string[] = [];
  const host = new FunctionHost(
    [
      localFunction('echo', 'index.echo', { reservedConcurrency: 2 }),
      localFunction('throws', 'index.throws'),
      localFunction('logs', 'index.logs', { environment: { SECRET_TOKEN: 's3cr3t' } }),
    ],
    { onLog: (_functionName, line) => logLines.push(line.text) },
  );
  let api: LambdaApi;
  let lambda: LambdaClient;

  beforeAll(async () => {
    api = await startLambdaApi({ host, listEventSourceMappings: () => [mapping()] });
    lambda = new LambdaClient({
      endpoint: api.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestHandler: new NodeHttpHandler(),
    });
  });

  afterAll(async () => {
    lambda.destroy();
    await api.close();
    await host.stop();
  });

  describe('Invoke', () => {
    it('round-trips an event through the alias', async () => {
      // when
      const output = await lambda.send(
        new InvokeCommand({
          FunctionName: 'echo',
          Qualifier: 'live',
          Payload: Buffer.from(JSON.stringify({ order: 7 })),
        }),
      );

      // then
      expect(output.StatusCode).toBe(200);
      expect(output.ExecutedVersion).toBe('1');
      expect(output.FunctionError).toBeUndefined();
      expect(payloadOf(output)).toMatchObject({ code: 'v1', event: { order: 7 } });
    });

    it('accepts a qualified function ARN', async () => {
      // when
      const output = await lambda.send(
        new InvokeCommand({
          FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:echo:live',
        }),
      );

      // then
      expect(output.ExecutedVersion).toBe('1');
      expect(payloadOf(output)).toMatchObject({ event: {} });
    });

    it('reports a function error in X-Amz-Function-Error with the error payload', async () => {
      // when
      const output = await lambda.send(new InvokeCommand({ FunctionName: 'throws' }));

      // then
      expect(output.StatusCode).toBe(200);
      expect(output.ExecutedVersion).toBe('$LATEST');
      expect(output.FunctionError).toBe('Unhandled');
      expect(payloadOf(output)).toMatchObject({
        errorType: 'TypeError',
        errorMessage: 'bad input',
      });
    });

    it('returns the log tail when asked', async () => {
      // when
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: 'logs', LogType: 'Tail' }),
      );

      // then
      const log = Buffer.from(output.LogResult ?? '', 'base64').toString('utf8');
      expect(log).toMatch(/^START RequestId: \S+ Version: \$LATEST\n/);
      expect(log).toContain('\tINFO\thello from console\n');
      expect(log).toMatch(/REPORT RequestId: \S+\tDuration: [\d.]+ ms/);
    });

    it('runs an Event invocation asynchronously and answers 202', async () => {
      // given
      const before = logLines.filter((line) => line.endsWith('hello from console')).length;

      // when
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: 'logs', InvocationType: 'Event' }),
      );

      // then
      expect(output.StatusCode).toBe(202);
      const deadline = Date.now() + 5000;
      while (logLines.filter((line) => line.endsWith('hello from console')).length === before) {
        if (Date.now() > deadline) throw new Error('the Event invocation did not run');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });

    it('answers 204 to a DryRun', async () => {
      // when
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: 'echo', InvocationType: 'DryRun' }),
      );

      // then
      expect(output.StatusCode).toBe(204);
    });

    it('fails if the function is unknown, with ResourceNotFoundException', async () => {
      // when / then
      await expect(lambda.send(new InvokeCommand({ FunctionName: 'nope' }))).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('fails if the payload is not JSON, with InvalidRequestContentException', async () => {
      // when / then
      await expect(
        lambda.send(new InvokeCommand({ FunctionName: 'echo', Payload: Buffer.from('{not json') })),
      ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
    });
  });

  describe('requests from web pages', () => {
    it('refuses a cross-origin text/plain POST to Invoke', async () => {
      // when
      const answer = await rawRequest(
        api.port,
        'POST',
        '/2015-03-31/functions/echo/invocations',
        {
          Host: `127.0.0.1:${api.port}`,
          Origin: 'https://attacker.example',
          'Content-Type': 'text/plain',
        },
        JSON.stringify({ order: 7 }),
      );

      // then
      expect([answer.status, answer.errorType]).toStrictEqual([403, 'AccessDeniedException']);
    });

    it('refuses ListFunctions for a Host that is not loopback (DNS rebinding)', async () => {
      // when
      const answer = await rawRequest(api.port, 'GET', '/2015-03-31/functions', {
        Host: `attacker.example:${api.port}`,
      });

      // then
      expect([answer.status, answer.errorType]).toStrictEqual([403, 'AccessDeniedException']);
      expect(answer.body).not.toContain('s3cr3t');
    });

    it('refuses a loopback Host with another port', async () => {
      // when
      const answer = await rawRequest(api.port, 'GET', '/2015-03-31/functions', {
        Host: `127.0.0.1:${api.port + 1}`,
      });

      // then
      expect(answer.status).toBe(403);
    });

    it('refuses a CORS preflight without allowing the origin', async () => {
      // when
      const answer = await rawRequest(
        api.port,
        'OPTIONS',
        '/2015-03-31/functions/echo/invocations',
        {
          Host: `localhost:${api.port}`,
          Origin: 'http://localhost:3000',
          'Access-Control-Request-Method': 'POST',
        },
      );

      // then
      expect([answer.status, answer.allowOrigin]).toStrictEqual([403, undefined]);
    });

    it('refuses a request a page made without Origin (Sec-Fetch-Site)', async () => {
      // when
      const answer = await rawRequest(api.port, 'GET', '/2015-03-31/functions', {
        Host: `localhost:${api.port}`,
        'Sec-Fetch-Site': 'same-site',
      });

      // then
      expect(answer.status).toBe(403);
    });

    it.each(['127.0.0.1', 'localhost', '[::1]'])(
      'serves a program that names %s with the port',
      async (name) => {
        // when
        const answer = await rawRequest(api.port, 'GET', '/2015-03-31/functions', {
          Host: `${name}:${api.port}`,
        });

        // then
        expect(answer.status).toBe(200);
      },
    );
  });

  describe('functions and mappings', () => {
    it('lists the functions', async () => {
      // when
      const output = await lambda.send(new ListFunctionsCommand({}));

      // then
      expect(
        output.Functions?.map((fn) => [fn.FunctionName, fn.Handler, fn.Runtime]),
      ).toStrictEqual([
        ['echo', 'index.echo', 'nodejs24.x'],
        ['throws', 'index.throws', 'nodejs24.x'],
        ['logs', 'index.logs', 'nodejs24.x'],
      ]);
    });

    it('gets a function with its configuration and reserved concurrency', async () => {
      // when
      const output = await lambda.send(new GetFunctionCommand({ FunctionName: 'echo' }));

      // then
      expect(output.Configuration).toMatchObject({
        FunctionName: 'echo',
        FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo',
        Timeout: 3,
        MemorySize: 256,
        Version: '$LATEST',
      });
      expect(output.Concurrency?.ReservedConcurrentExecutions).toBe(2);
    });

    it('lists the event source mappings of a function', async () => {
      // when
      const output = await lambda.send(
        new ListEventSourceMappingsCommand({ FunctionName: 'echo' }),
      );

      // then
      expect(output.EventSourceMappings).toHaveLength(1);
      expect(output.EventSourceMappings?.[0]).toMatchObject({
        UUID: '7c8d2a52-0000-4000-8000-000000000001',
        EventSourceArn: STREAM_ARN,
        FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:echo:live',
        BatchSize: 100,
        StartingPosition: 'TRIM_HORIZON',
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        State: 'Enabled',
      });
    });
  });
});
