/**
 * Publishing a new version warm (what `driverless dev` does on a code change): the aliases move
 * only once an environment of the new code has finished its init, so nothing invoked through an
 * alias waits for a cold start, and until then the old version keeps serving.
 */
import path from 'node:path';
import { FunctionHost } from '../../emulator/functions';
import { localFunction } from '../fixtures/function-host/local-function';

const SLOW_INIT_V2 = path.join(__dirname, '..', 'fixtures', 'function-host', 'v2-slow-init');

interface Slept {
  code: string;
  pid: number;
}

let host: FunctionHost;

beforeEach(() => {
  host = new FunctionHost([localFunction('upgraded', 'index.sleep')]);
});

afterEach(() => host.stop());

it('keeps the aliases on the old version while the new one initializes', async () => {
  // Given: version 1 warm
  await host.invoke('upgraded', 'live', { ms: 1 });

  // When: version 2 (700 ms of init) is published warm, and the alias invoked meanwhile
  const published = host.publishWarm('upgraded', SLOW_INIT_V2);
  const during = await host.invoke('upgraded', 'live', { ms: 1 });

  // Then
  expect([during.executedVersion, (during.payload as Slept).code]).toStrictEqual(['1', 'v1']);
  expect(await published).toBe('2');
});

it('moves the aliases to an environment of the new version that has already initialized', async () => {
  // Given: version 2 published warm
  await host.invoke('upgraded', 'live', { ms: 1 });
  await host.publishWarm('upgraded', SLOW_INIT_V2);
  const warmed = host.environments('upgraded').filter((env) => env.version === '2');

  // When
  const after = await host.invoke('upgraded', 'live', { ms: 1 });

  // Then: served by that environment, with no init of its own
  expect(warmed.map((env) => env.state)).toStrictEqual(['idle']);
  expect([after.executedVersion, (after.payload as Slept).code]).toStrictEqual([
    '2',
    'v2-slow-init',
  ]);
  expect((after.payload as Slept).pid).toBe(warmed[0]?.pid);
});

it('lets an invocation in flight finish on the old version', async () => {
  // Given: an invocation of version 1 running
  const inFlight = host.invoke('upgraded', 'live', { ms: 1500 });
  await new Promise((resolve) => setTimeout(resolve, 200));

  // When
  await host.publishWarm('upgraded', SLOW_INIT_V2);

  // Then
  const before = await inFlight;
  expect([before.executedVersion, (before.payload as Slept).code]).toStrictEqual(['1', 'v1']);
});

it('moves the aliases at once when updateCode publishes while a version warms up', async () => {
  // Given: version 2 warming up
  const warming = host.publishWarm('upgraded', SLOW_INIT_V2);

  // When: version 3 is published the plain way
  const third = host.updateCode('upgraded', SLOW_INIT_V2);
  const after = await host.invoke('upgraded', 'live', { ms: 1 });
  await warming;

  // Then: the alias is on version 3, and stays there once version 2 is warm
  expect([third, after.executedVersion]).toStrictEqual(['3', '3']);
  expect(host.resolve('upgraded', 'live').version).toBe('3');
});
