import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  descendantsOf,
  type ProcessEntry,
  stillRunning,
  survivorsAfter,
} from './support/process-tree';

// Each case starts three servers and a function environment in a child process: seconds under load.
jest.setTimeout(90_000);

const STACK_PROCESS = path.join(__dirname, '../fixtures/orphans/stack-process.ts');
/** Upper bound for the whole tree to go: a launcher check, a graceful stop, process exits. */
const GONE_WITHIN_MS = 20_000;

/**
 * Starts the stack process behind a launcher, as `npm start` does (npm → sh → tsx → node): a shell
 * that stays between (`; true` keeps it from exec'ing node) and forwards no signal.
 */
async function startBehindLauncher(
  session: 'inherited' | 'own',
): Promise<{ launcher: ChildProcess; tree: ProcessEntry[] }> {
  const shell = ['sh', '-c', '"$0" --import tsx "$1"; true', process.execPath, STACK_PROCESS];
  // `setsid` execs the shell as the leader of a new session without a terminal, as a process
  // manager or `setsid npm start` runs it.
  const [command, ...args] = session === 'own' ? ['setsid', ...shell] : shell;
  const launcher = spawn(command as string, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: launcher.stdout! });
  for await (const line of lines) if (line === 'ready') break;
  return { launcher, tree: descendantsOf(launcher.pid!) };
}

describe('no orphans', () => {
  it.each([
    ['SIGKILL', 'inherited'],
    ['SIGTERM', 'inherited'],
    ['SIGKILL', 'own'],
  ] as const)(
    'leaves no process behind when the launcher alone gets %s (%s session)',
    async (signal, session) => {
      // Given: the stack process, three servers and a warm environment below a launcher
      const { launcher, tree } = await startBehindLauncher(session);
      expect(tree.filter(stillRunning).length).toBeGreaterThanOrEqual(5);

      // When
      launcher.kill(signal);

      // Then
      const survivors = await survivorsAfter(tree, GONE_WITHIN_MS);
      expect(survivors).toStrictEqual([]);
    },
  );

  it('leaves no process behind when the stack process itself is SIGKILLed', async () => {
    // Given
    const { launcher, tree } = await startBehindLauncher('inherited');
    const stackProcess = tree.find((entry) => entry.ppid === launcher.pid) as ProcessEntry;

    // When
    process.kill(stackProcess.pid, 'SIGKILL');

    // Then
    const survivors = await survivorsAfter(tree, GONE_WITHIN_MS);
    expect(survivors).toStrictEqual([]);
  });
});
