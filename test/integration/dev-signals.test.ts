/**
 * `driverless dev` stopped by a signal sent to its own pid (a process manager, CI, `kill`), not by
 * a terminal's Ctrl-C to the whole process group: it stops every server and function process it
 * started, prints its summary and exits 128 + the signal's number.
 */
import { join } from 'node:path';
import { descendants, isAlive, startDev } from '../fixtures/dev-app/dev-process';
import { type DevApp, makeDevApp } from '../fixtures/dev-app/make-dev-app';

const ROOT = join(__dirname, '..', '..');
let app: DevApp;

beforeAll(async () => {
  app = await makeDevApp(join(ROOT, '.driverless', `dev-signals-${process.pid}`));
});

afterAll(async () => {
  await app.remove();
});

it.each([
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('stops every process it started when %s is sent to its pid', async (signal, code) => {
  // Given: a session that runs, with its servers and function processes
  const dev = startDev(app.dir, ['--no-watch']);
  await dev.waitForStderr(/› running/);
  const pid = dev.child.pid as number;
  const started = descendants(pid);

  // When
  process.kill(pid, signal);
  const exitCode = await dev.exited;

  // Then
  expect(started.length).toBeGreaterThan(0);
  expect({ exitCode, survivors: started.filter(isAlive) }).toStrictEqual({
    exitCode: code,
    survivors: [],
  });
  expect(dev.stdout).toContain('driverless dev ran ');
});
