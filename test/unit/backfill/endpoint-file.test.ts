import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientsFromStateFile } from '../../../cli/backfill/backfill-clients';
import { readStackState } from '../../../emulator/index';

// A pid no process has: the highest Linux allows is 2^22.
const DEAD_PID = 4_194_304;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'driverless-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function stateFile(state: unknown): string {
  const path = join(dir, 'local.json');
  writeFileSync(path, typeof state === 'string' ? state : JSON.stringify(state));
  return path;
}

const endpoints = {
  lambda: 'http://127.0.0.1:1',
  kinesis: 'http://127.0.0.1:2',
  s3: 'http://127.0.0.1:3',
  dynamodb: 'http://127.0.0.1:4',
};

describe('a stack state file, as the tools read it', () => {
  test('is running when its owner process is', () => {
    // When
    const read = readStackState(stateFile({ pid: process.pid, endpoints }));
    // Then
    expect(read).toMatchObject({ kind: 'running', state: { endpoints } });
  });

  test('is stale when its owner process is gone', () => {
    // When
    const read = readStackState(stateFile({ pid: DEAD_PID, endpoints }));
    // Then
    expect(read).toMatchObject({
      kind: 'stale',
      reason: expect.stringContaining('no longer running'),
    });
  });

  test.each([
    ['not found', undefined],
    ['not JSON', '{"endpoints":'],
  ])('is unreadable when %s', (reason, text) => {
    // Given
    const path = text === undefined ? join(dir, 'missing.json') : stateFile(text);
    // Then
    expect(readStackState(path)).toStrictEqual({ kind: 'unreadable', reason });
  });
});

describe('backfill against an embedded stack', () => {
  test('refuses the endpoints of a stack that is no longer running, saying what to do', () => {
    // Given
    const path = stateFile({ pid: DEAD_PID, endpoints });
    // Then
    expect(() => clientsFromStateFile(path)).toThrow(/no longer running.*or pass --endpoint-file/);
  });
});
