import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDev } from '../../../cli/dev/run-dev';

describe('a second dev session in one project', () => {
  let project: string;
  const stateFile = () => join(project, '.driverless', 'local.json');

  beforeEach(() => {
    project = mkdtempSync(join(tmpdir(), 'driverless-dev-'));
    mkdirSync(join(project, '.driverless'));
  });

  afterEach(() => rmSync(project, { recursive: true, force: true }));

  it('fails before it synthesizes if a running session owns the state file, and leaves that file alone', async () => {
    // Given: the state file of a session that runs (this test's parent process)
    const theirs = JSON.stringify({
      pid: process.ppid,
      endpoints: { kinesis: 'http://127.0.0.1:1' },
    });
    writeFileSync(stateFile(), theirs, { mode: 0o600 });

    // When
    const session = runDev(
      { projectDir: project },
      { stdout: () => undefined, stderr: () => undefined },
    );

    // Then
    await expect(session).rejects.toThrow(
      `another session (pid ${process.ppid}) runs this project and writes .driverless/local.json: stop it, or give this one its own state file with --state-file .driverless/<name>.json`,
    );
    expect(readFileSync(stateFile(), 'utf8')).toBe(theirs);
  });
});
