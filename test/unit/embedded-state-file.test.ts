import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimStateFile, staleStateReason } from '../../emulator/state-file';

describe('the embedded stack state file', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'driverless-state-'));
    path = join(dir, '.driverless', 'local.json');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is readable by its owner only', async () => {
    // given
    const claim = await claimStateFile(path);

    // when
    await claim.write({ functions: { Handler: { environment: { TOKEN: 'secret' } } } });

    // then
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('names the process that owns it', async () => {
    // given
    const claim = await claimStateFile(path);

    // when
    await claim.write({ region: 'us-east-1' });

    // then
    expect(JSON.parse(readFileSync(path, 'utf8'))).toStrictEqual({
      region: 'us-east-1',
      pid: process.pid,
    });
  });

  it('is removed when the stack releases it', async () => {
    // given
    const claim = await claimStateFile(path);
    await claim.write({ region: 'us-east-1' });

    // when
    await claim.release();

    // then
    expect(existsSync(path)).toBe(false);
  });

  it('fails if another running stack owns it, and leaves that file alone', async () => {
    // given: a file written by another live process (this test's parent)
    const first = await claimStateFile(path);
    await first.release();
    writeFileSync(path, JSON.stringify({ pid: process.ppid, region: 'theirs' }), { mode: 0o600 });

    // when
    const claiming = claimStateFile(path);

    // then
    await expect(claiming).rejects.toThrow(
      `another embedded stack (pid ${process.ppid}) is running and writes ${path}`,
    );
    expect(JSON.parse(readFileSync(path, 'utf8'))).toStrictEqual({
      pid: process.ppid,
      region: 'theirs',
    });
  });

  it('replaces a file left by a stack that is no longer running, readable by its owner only', async () => {
    // given: a world-readable file without an owner, as earlier versions wrote it
    const first = await claimStateFile(path);
    await first.release();
    writeFileSync(path, JSON.stringify({ region: 'stale' }), { mode: 0o644 });

    // when
    const claim = await claimStateFile(path);
    await claim.write({ region: 'fresh' });

    // then
    expect([
      JSON.parse(readFileSync(path, 'utf8')).region,
      statSync(path).mode & 0o777,
    ]).toStrictEqual(['fresh', 0o600]);
  });

  it('does not remove a file another stack took over', async () => {
    // given
    const claim = await claimStateFile(path);
    writeFileSync(path, JSON.stringify({ pid: process.ppid }), { mode: 0o600 });

    // when
    await claim.release();

    // then
    expect(existsSync(path)).toBe(true);
  });
});

describe('two stacks in one project', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'driverless-state-'));
    path = join(dir, '.driverless', 'local.json');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fails if a second stack of the same process claims the file, and leaves the first one its file', async () => {
    // Given: a running stack of this process (two startLocal calls in one test file share a pid)
    const first = await claimStateFile(path);
    await first.write({ endpoints: { kinesis: 'http://127.0.0.1:1111' } });

    // When
    const second = claimStateFile(path);

    // Then
    await expect(second).rejects.toThrow(`another embedded stack of this process writes ${path}`);
    expect(JSON.parse(readFileSync(path, 'utf8')).endpoints).toStrictEqual({
      kinesis: 'http://127.0.0.1:1111',
    });
    await first.release();
  });

  it('can be claimed again by the same process once released', async () => {
    // Given
    const first = await claimStateFile(path);
    await first.release();

    // When
    const again = await claimStateFile(path);

    // Then
    expect(existsSync(path)).toBe(true);
    await again.release();
  });
});

describe('staleStateReason', () => {
  it('says a file whose owner no longer runs leads nowhere', () => {
    // Given: a pid above Linux's maximum, which no process can have
    const state = { pid: 4_194_305 };

    // When
    const reason = staleStateReason('.driverless/local.json', state);

    // Then
    expect(reason).toBe(
      '.driverless/local.json was written by a stack that is no longer running (pid 4194305): start the stack again (driverless dev, npm start) or delete the file',
    );
  });

  it('accepts a file whose owner runs, or that names no owner', () => {
    // When
    const reasons = [staleStateReason('f', { pid: process.pid }), staleStateReason('f', {})];

    // Then
    expect(reasons).toStrictEqual([undefined, undefined]);
  });
});
