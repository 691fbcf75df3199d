import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withJsonText } from '../../emulator/event-json';
import { FunctionHost, type FunctionLogLine } from '../../emulator/functions';
import type { Invoke } from '../../emulator/model';
import {
  FIXTURE_CODE,
  FIXTURE_CODE_V2,
  localFunction,
} from '../fixtures/function-host/local-function';

interface Slept {
  code: string;
  pid: number;
  startedAt: number;
  endedAt: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('FunctionHost', () => {
  const logs: { functionName: string; line: FunctionLogLine }[] = [];
  const host = new FunctionHost(
    [
      localFunction('echo', 'index.echo', { environment: { TABLE: 'results' } }),
      localFunction('env', 'index.env', {
        environment: { TABLE: 'results', AWS_REGION: 'mars-1' },
      }),
      localFunction('context', 'index.context', { memoryMb: 512 }),
      localFunction('sleepy', 'index.sleep', { timeoutSeconds: 1 }),
      localFunction('parallel', 'index.sleep'),
      localFunction('barrier', 'index.barrier', { timeoutSeconds: 10 }),
      localFunction('serial', 'index.sleep', { reservedConcurrency: 1 }),
      localFunction('disabled', 'index.echo', { reservedConcurrency: 0 }),
      localFunction('throws', 'index.throws'),
      localFunction('exits', 'index.exits'),
      localFunction('rejects', 'index.rejectsLater'),
      localFunction('callback', 'index.callback'),
      localFunction('logs', 'index.logs'),
      localFunction('slow-init', 'slow-init.handler', { timeoutSeconds: 1 }),
      localFunction('init-error', 'init-error.handler'),
      localFunction('no-handler', 'index.missing'),
      localFunction('no-module', 'absent.handler'),
      localFunction('upgraded', 'index.sleep'),
      localFunction('steps', 'index.steps', { timeoutSeconds: 60 }),
      localFunction('steps-short', 'index.steps', { timeoutSeconds: 1 }),
    ],
    {
      environment: { AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4567' },
      onLog: (functionName, line) => logs.push({ functionName, line }),
    },
  );

  afterAll(() => host.stop());

  describe('invocation', () => {
    it('returns the handler result with the version the alias resolves to', async () => {
      // when
      const result = await host.invoke('echo', 'live', { order: 42 });

      // then
      expect(result.functionError).toBeUndefined();
      expect(result.executedVersion).toBe('1');
      expect(result.payload).toMatchObject({ code: 'v1', event: { order: 42 } });
    });

    it('hands the function an event parsed from the JSON text remembered with it', async () => {
      // given: an event whose builder kept its JSON text (as the mapping does for a batch)
      const event = withJsonText({ order: 42 }, '{"order":42,"fromText":true}');

      // when
      const result = await host.invoke('echo', 'live', event);

      // then: the text travelled, not a second serialization of the object
      expect(result.payload).toMatchObject({ event: { order: 42, fromText: true } });
    });

    it('reports $LATEST for an unqualified invocation', async () => {
      // given: the host's invoke is the embedded stack's Invoke
      const invoke: Invoke = host.invoke;

      // when
      const result = await invoke('echo', undefined, {});

      // then
      expect(result.executedVersion).toBe('$LATEST');
    });

    it('accepts name:qualifier and a qualified ARN', async () => {
      // when
      const byName = await host.invoke('echo:live', undefined, {});
      const byArn = await host.invoke(
        'arn:aws:lambda:us-east-1:000000000000:function:echo:1',
        undefined,
        {},
      );

      // then
      expect([byName.executedVersion, byArn.executedVersion]).toStrictEqual(['1', '1']);
    });

    it('reuses a warm environment for the next invocation', async () => {
      // given
      const first = await host.invoke('echo', 'live', {});

      // when
      const second = await host.invoke('echo', 'live', {});

      // then
      expect(second.pid).toBe(first.pid);
      expect(second.coldStart).toBe(false);
    });

    it('gives the handler a Lambda context honouring the timeout', async () => {
      // when
      const result = await host.invoke('context', 'live', {});

      // then
      const context = result.payload as Record<string, unknown>;
      expect(context).toMatchObject({
        functionName: 'context',
        functionVersion: '1',
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:context:live',
        memoryLimitInMB: '512',
        awsRequestId: result.requestId,
        logGroupName: '/aws/lambda/context',
        callbackWaitsForEmptyEventLoop: true,
      });
      expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]{32}$/);
      expect(context.remainingTimeInMillis).toBeGreaterThan(2000);
      expect(context.remainingTimeInMillis).toBeLessThanOrEqual(3000);
    });

    it('sets the function environment, the caller environment and the reserved variables', async () => {
      // given
      process.env.FUNCTION_HOST_TEST_HOST_ONLY = 'leaked';
      const names = [
        'TABLE',
        'AWS_ENDPOINT_URL_KINESIS',
        'AWS_REGION',
        'AWS_LAMBDA_FUNCTION_NAME',
        'AWS_LAMBDA_FUNCTION_VERSION',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
        'AWS_LAMBDA_LOG_GROUP_NAME',
        'LAMBDA_TASK_ROOT',
        '_HANDLER',
        'AWS_ACCESS_KEY_ID',
        'FUNCTION_HOST_TEST_HOST_ONLY',
      ];

      // when
      const result = await host.invoke('env', undefined, { names });

      // then
      expect(result.payload).toStrictEqual({
        TABLE: 'results',
        AWS_ENDPOINT_URL_KINESIS: 'http://127.0.0.1:4567',
        AWS_REGION: 'us-east-1',
        AWS_LAMBDA_FUNCTION_NAME: 'env',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/env',
        LAMBDA_TASK_ROOT: localFunction('x', 'x').codeDirectory,
        _HANDLER: 'index.env',
        AWS_ACCESS_KEY_ID: 'test',
        FUNCTION_HOST_TEST_HOST_ONLY: null,
      });
    });

    it('resolves the runtime-provided AWS SDK for a bundle outside the project', async () => {
      // given: a bundle that leaves @aws-sdk external, as CDK does for Node.js runtimes
      const code = mkdtempSync(path.join(tmpdir(), 'function-host-'));
      writeFileSync(
        path.join(code, 'index.js'),
        "exports.handler = async () => require.resolve('@aws-sdk/client-lambda');\n",
      );
      const outside = new FunctionHost([
        localFunction('outside', 'index.handler', { codeDirectory: code }),
      ]);

      // when
      const result = await outside.invoke('outside', undefined, {}).finally(() => outside.stop());

      // then
      rmSync(code, { recursive: true });
      expect(result.functionError).toBeUndefined();
      expect(result.payload).toContain(path.join('node_modules', '@aws-sdk', 'client-lambda'));
    });

    it('supports callback-style handlers', async () => {
      // when
      const result = await host.invoke('callback', undefined, { n: 1 });

      // then
      expect(result.payload).toStrictEqual({ called: 'back', event: { n: 1 } });
    });

    it('fails if the function is unknown', async () => {
      // when / then
      await expect(host.invoke('nope', undefined, {})).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope',
      });
    });

    it('fails if the qualifier is unknown', async () => {
      // when / then
      await expect(host.invoke('echo', 'canary', {})).rejects.toMatchObject({
        name: 'ResourceNotFoundException',
        message: 'Function not found: arn:aws:lambda:us-east-1:000000000000:function:echo:canary',
      });
    });

    it('fails if the options are out of range, naming each', () => {
      // when / then
      expect(
        () => new FunctionHost([], { maxEnvironmentsPerFunction: 0, initTimeoutMs: -1 }),
      ).toThrow(
        'maxEnvironmentsPerFunction must be an integer of 1 or more (given 0); initTimeoutMs must be more than 0 (given -1)',
      );
    });

    it('fails if reserved concurrency is 0 (throttled, as AWS does)', async () => {
      // when / then
      await expect(host.invoke('disabled', undefined, {})).rejects.toMatchObject({
        name: 'TooManyRequestsException',
      });
    });
  });

  describe('function errors', () => {
    it('reports a thrown error as Lambda shapes it', async () => {
      // when
      const result = await host.invoke('throws', undefined, {});

      // then
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toStrictEqual({
        errorType: 'TypeError',
        errorMessage: 'bad input',
        trace: expect.arrayContaining(['TypeError: bad input']),
      });
    });

    it('names no local path in a thrown error, only the task root as Lambda does', async () => {
      // when
      const result = await host.invoke('throws', undefined, {});

      // then
      const payload = JSON.stringify(result.payload);
      expect([payload.includes(FIXTURE_CODE), payload.includes(process.cwd())]).toStrictEqual([
        false,
        false,
      ]);
      expect((result.payload as { trace: string[] }).trace).toContainEqual(
        expect.stringMatching(/^ {4}at .*\(\/var\/task\/index\.js:\d+:\d+\)$/),
      );
    });

    it('names no local path when the handler module is missing', async () => {
      // when
      const result = await host.invoke('no-module', undefined, {});

      // then
      const payload = JSON.stringify(result.payload);
      expect(payload).toContain('Runtime.ImportModuleError');
      expect([payload.includes(FIXTURE_CODE), payload.includes(process.cwd())]).toStrictEqual([
        false,
        false,
      ]);
    });

    it('kills a handler past its timeout and starts a fresh environment next time', async () => {
      // given
      const timedOut = await host.invoke('sleepy', undefined, { ms: 10_000 });

      // when
      const next = await host.invoke('sleepy', undefined, { ms: 1 });

      // then
      expect(timedOut.functionError).toBe('Unhandled');
      expect(timedOut.payload).toStrictEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${timedOut.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(isAlive(timedOut.pid!)).toBe(false);
      expect(next.functionError).toBeUndefined();
      expect(next.coldStart).toBe(true);
      expect(next.pid).not.toBe(timedOut.pid);
    });

    it('reports a process that exits mid-invocation', async () => {
      // when
      const result = await host.invoke('exits', undefined, {});

      // then
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toStrictEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: exit status 3`,
      });
    });

    it('reports a process killed from outside mid-invocation', async () => {
      // given
      const invocation = host.invoke('parallel', undefined, { ms: 5000 });
      await until(() => host.environments('parallel').some((env) => env.state === 'busy'));

      // when
      const killed = host.kill('parallel');
      const result = await invocation;

      // then
      expect(killed).toStrictEqual([result.pid]);
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toStrictEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: signal: killed`,
      });
    });

    it('reports an unhandled rejection and replaces the environment', async () => {
      // when
      const result = await host.invoke('rejects', undefined, {});

      // then
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({
        errorType: 'Runtime.UnhandledPromiseRejection',
        errorMessage: 'Error: nobody awaited me',
      });
      await until(() => !isAlive(result.pid!));
    });

    it('reports an init failure and initializes anew on the next invocation', async () => {
      // given
      const first = await host.invoke('init-error', undefined, {});

      // when
      const second = await host.invoke('init-error', undefined, {});

      // then
      expect(first.functionError).toBe('Unhandled');
      expect(first.payload).toMatchObject({
        errorType: 'Error',
        errorMessage: 'DRIVERLESS_PIPELINE is not set',
      });
      expect(second.functionError).toBe('Unhandled');
      expect(second.pid).not.toBe(first.pid);
    });

    it('reports a handler that is not exported', async () => {
      // when
      const result = await host.invoke('no-handler', undefined, {});

      // then
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toMatchObject({
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: 'index.missing is undefined or not exported',
      });
    });

    it('does not count a slow init against the function timeout', async () => {
      // when: 700 ms of init plus 400 ms of handler, with a 1 s timeout
      const result = await host.invoke('slow-init', undefined, { ms: 400 });

      // then
      expect(result.functionError).toBeUndefined();
      expect(result.initDurationMs).toBeGreaterThanOrEqual(700);
    });
  });

  describe('injected faults', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'function-host-faults-'));
    let files = 0;
    /** A fresh file for the `steps` handler to write its steps to. */
    const stepsFile = () => path.join(scratch, `steps-${++files}`);
    const stepsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

    afterAll(() => rmSync(scratch, { recursive: true, force: true }));

    it('cuts an invocation at its injected timeout while the handler runs: the step before stays, the one after never comes', async () => {
      // given: a handler that would wait a minute between its steps, with a 60 s timeout
      const file = stepsFile();

      // when
      const started = performance.now();
      const result = await host.invoke(
        'steps',
        undefined,
        { file, holdMs: 60_000 },
        { fault: { kind: 'timeout', afterMs: 1000 } },
      );
      const elapsedMs = performance.now() - started;

      // then: Lambda's timeout answer for the configured 60 s, and the process is gone
      expect(result.functionError).toBe('Unhandled');
      expect(result.payload).toStrictEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 60.00 seconds`,
      });
      expect(result.durationMs).toBe(60_000);
      expect(elapsedMs).toBeLessThan(30_000);
      expect(isAlive(result.pid!)).toBe(false);
      expect(stepsIn(file)).toBe('first\n');
    });

    it('kills the process at an injected crash while the handler runs', async () => {
      // given
      const file = stepsFile();

      // when
      const started = performance.now();
      const result = await host.invoke(
        'steps',
        undefined,
        { file, holdMs: 60_000 },
        { fault: { kind: 'kill', afterMs: 1000 } },
      );
      const elapsedMs = performance.now() - started;

      // then
      expect(result.payload).toStrictEqual({
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${result.requestId} Error: Runtime exited with error: signal: killed`,
      });
      expect(elapsedMs).toBeLessThan(30_000);
      expect(isAlive(result.pid!)).toBe(false);
      expect(stepsIn(file)).toBe('first\n');
    });

    it('runs none of the handler when the cut comes at 0 ms', async () => {
      // given
      const file = stepsFile();

      // when
      const result = await host.invoke(
        'steps',
        undefined,
        { file, holdMs: 0 },
        { fault: { kind: 'kill', afterMs: 0 } },
      );

      // then
      expect(result.payload).toMatchObject({ errorType: 'Runtime.ExitError' });
      expect(stepsIn(file)).toBe('');
    });

    it('loses the answer of a handler that ends before its cut, and discards its environment', async () => {
      // given
      const file = stepsFile();

      // when
      const result = await host.invoke(
        'steps',
        undefined,
        { file, holdMs: 0 },
        { fault: { kind: 'timeout', afterMs: 2000 } },
      );

      // then: the work is done, the answer is Lambda's timeout
      expect(result.payload).toMatchObject({ errorType: 'Sandbox.Timedout' });
      expect(stepsIn(file)).toBe('first\nsecond\n');
      expect(isAlive(result.pid!)).toBe(false);
    });

    it('times out at the configured timeout when the injected cut would come later', async () => {
      // given: a 1 s timeout and a crash asked for at 2 s
      const file = stepsFile();

      // when
      const result = await host.invoke(
        'steps-short',
        undefined,
        { file, holdMs: 60_000 },
        { fault: { kind: 'kill', afterMs: 2000 } },
      );

      // then
      expect(result.payload).toMatchObject({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(stepsIn(file)).toBe('first\n');
    });

    it('keeps the answer of a handler that ends in time when the injected cut would come after its timeout', async () => {
      // given: a 1 s timeout and a crash asked for at 2 s, which the timeout would come before
      const file = stepsFile();

      // when: the handler answers at once
      const result = await host.invoke(
        'steps-short',
        undefined,
        { file, holdMs: 0 },
        { fault: { kind: 'kill', afterMs: 2000 } },
      );

      // then: no fault acted
      expect(result.functionError).toBeUndefined();
      expect(stepsIn(file)).toBe('first\nsecond\n');
    });

    it('still cuts a handler at its configured timeout without a fault, keeping what it did before', async () => {
      // given
      const file = stepsFile();

      // when
      const result = await host.invoke('steps-short', undefined, { file, holdMs: 60_000 });

      // then
      expect(result.payload).toStrictEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${result.requestId} Error: Task timed out after 1.00 seconds`,
      });
      expect(isAlive(result.pid!)).toBe(false);
      expect(stepsIn(file)).toBe('first\n');
    });

    it('fails if the cut is negative or not finite', async () => {
      // when / then
      await expect(
        host.invoke('steps', undefined, {}, { fault: { kind: 'kill', afterMs: Number.NaN } }),
      ).rejects.toThrow('fault.afterMs must be a finite number of 0 or more (given NaN)');
    });
  });

  describe('concurrency', () => {
    it('runs concurrent invocations in separate environments at the same time', async () => {
      // given
      const dir = mkdtempSync(path.join(tmpdir(), 'function-host-barrier-'));

      // when
      const results = await Promise.all(
        [1, 2, 3].map(() => host.invoke('barrier', undefined, { dir, parties: 3 })),
      );

      // then
      rmSync(dir, { recursive: true });
      const runs = results.map((result) => result.payload as { pid: number; met: boolean });
      expect(runs.map((run) => run.met)).toStrictEqual([true, true, true]);
      expect(new Set(runs.map((run) => run.pid)).size).toBe(3);
    });

    it('queues invocations past the reserved concurrency', async () => {
      // when
      const [first, second] = await Promise.all([
        host.invoke('serial', undefined, { ms: 200 }),
        host.invoke('serial', undefined, { ms: 200 }),
      ]);

      // then
      const [a, b] = [first!.payload as Slept, second!.payload as Slept];
      expect(b.pid).toBe(a.pid);
      expect(b.startedAt).toBeGreaterThanOrEqual(a.endedAt);
      expect(host.environments('serial')).toHaveLength(1);
    });
  });

  describe('code updates', () => {
    it('publishes a new version while in-flight invocations finish on the old one', async () => {
      // given
      const inFlight = host.invoke('upgraded', 'live', { ms: 500 });
      await until(() => host.environments('upgraded').some((env) => env.state === 'busy'));

      // when
      const version = host.updateCode('upgraded', FIXTURE_CODE_V2);
      const after = await host.invoke('upgraded', 'live', { ms: 1 });
      const before = await inFlight;

      // then
      expect(version).toBe('2');
      expect([before.executedVersion, (before.payload as Slept).code]).toStrictEqual(['1', 'v1']);
      expect([after.executedVersion, (after.payload as Slept).code]).toStrictEqual(['2', 'v2']);
      await until(() => !isAlive(before.pid!));
      expect(host.environments('upgraded').map((env) => env.version)).toStrictEqual(['2']);
    });

    it('still runs an older published version when asked by number', async () => {
      // given
      host.updateCode('upgraded', FIXTURE_CODE_V2);

      // when
      const result = await host.invoke('upgraded', '1', { ms: 1 });

      // then
      expect([result.executedVersion, (result.payload as Slept).code]).toStrictEqual(['1', 'v1']);
    });

    it('fails if the new code directory does not exist', () => {
      // when / then
      expect(() => host.updateCode('upgraded', '/nonexistent/code')).toThrow(
        'codeDirectory of function upgraded must be a directory (given /nonexistent/code)',
      );
    });
  });

  describe('logs', () => {
    it('forwards console, structured and stderr lines tagged with the invocation', async () => {
      // when
      const result = await host.invoke('logs', undefined, {});

      // then
      const lines = logs
        .filter(
          (entry) => entry.functionName === 'logs' && entry.line.requestId === result.requestId,
        )
        .map(({ line }) => ({ stream: line.stream, text: line.text, json: line.json }));
      // stdout and stderr are separate pipes: lines keep their order within a stream, not across.
      const order = ['platform', 'stdout', 'stderr'];
      const byStream = (a: { stream: string }, b: { stream: string }) =>
        order.indexOf(a.stream) - order.indexOf(b.stream);
      expect([...lines].sort(byStream)).toStrictEqual(
        [
          {
            stream: 'platform',
            text: `START RequestId: ${result.requestId} Version: $LATEST`,
            json: undefined,
          },
          {
            stream: 'stdout',
            text: expect.stringMatching(
              new RegExp(`\\t${result.requestId}\\tINFO\\thello from console$`),
            ),
            json: undefined,
          },
          {
            stream: 'stdout',
            text: '{"level":"INFO","message":"structured","n":1}',
            json: { level: 'INFO', message: 'structured', n: 1 },
          },
          {
            stream: 'stderr',
            text: expect.stringMatching(/\tERROR\tsomething to stderr$/),
            json: undefined,
          },
          { stream: 'platform', text: `END RequestId: ${result.requestId}`, json: undefined },
          {
            stream: 'platform',
            text: expect.stringMatching(
              new RegExp(`^REPORT RequestId: ${result.requestId}\\tDuration: `),
            ),
            json: undefined,
          },
        ].sort(byStream),
      );
    });

    it('keeps the invocation log when asked to tail it', async () => {
      // when
      const result = await host.invoke('logs', undefined, {}, { tail: true });

      // then
      expect(result.log).toHaveLength(6);
      expect(result.log?.[0]).toBe(`START RequestId: ${result.requestId} Version: $LATEST`);
    });
  });

  describe('latency', () => {
    it('measures cold start and warm invocation latency', async () => {
      // given
      const measured = new FunctionHost([localFunction('measured', 'index.echo')]);
      try {
        // when
        const coldStarted = performance.now();
        const cold = await measured.invoke('measured', undefined, {});
        const coldMs = performance.now() - coldStarted;
        const warmMs: number[] = [];
        for (let i = 0; i < 200; i += 1) {
          const started = performance.now();
          await measured.invoke('measured', undefined, { i });
          warmMs.push(performance.now() - started);
        }

        // then
        warmMs.sort((a, b) => a - b);
        const p50 = warmMs[Math.floor(warmMs.length * 0.5)]!;
        const p99 = warmMs[Math.floor(warmMs.length * 0.99)]!;
        process.stdout.write(
          `function host: cold start ${coldMs.toFixed(1)} ms (init ${cold.initDurationMs?.toFixed(1)} ms), warm p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms\n`,
        );
        expect(cold.coldStart).toBe(true);
        expect(p50).toBeLessThan(coldMs);
      } finally {
        await measured.stop();
      }
    });
  });

  describe('stop', () => {
    it('kills every environment, idle or busy, and leaves no process behind', async () => {
      // given
      const stopped = new FunctionHost([
        localFunction('idle', 'index.echo'),
        localFunction('busy', 'index.sleep'),
      ]);
      const idle = await stopped.invoke('idle', undefined, {});
      const busy = stopped.invoke('busy', undefined, { ms: 10_000 });
      await until(() => stopped.environments('busy').some((env) => env.state === 'busy'));
      const pids = stopped.environments().map((env) => env.pid!);

      // when
      await stopped.stop();

      // then
      expect(pids).toContain(idle.pid);
      expect(pids.filter(isAlive)).toStrictEqual([]);
      expect((await busy).functionError).toBe('Unhandled');
      await expect(stopped.invoke('idle', undefined, {})).rejects.toMatchObject({
        name: 'ServiceException',
      });
    });

    it('leaves no process behind when the host process itself is killed', async () => {
      // given
      const hostProcess = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(__dirname, '../fixtures/function-host/orphan-host.ts')],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const [firstLine] = (await once(hostProcess.stdout!, 'data')) as [Buffer];
      const { pid } = JSON.parse(firstLine.toString('utf8')) as { pid: number };
      expect(isAlive(pid)).toBe(true);

      // when
      hostProcess.kill('SIGKILL');

      // then
      await until(() => !isAlive(pid));
    });
  });
});
