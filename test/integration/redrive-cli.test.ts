/** `driverless redrive` argument handling that needs no stack: times and endpoint files. */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedriveUsageError } from '../../cli/redrive/redrive-error';
import { parseSince, runRedrive } from '../../cli/redrive/run-redrive';
import { captureRedriveOutput } from '../fixtures/redrive-output';

const NOW = Date.UTC(2026, 10, 23, 20, 0, 0);

describe('parseSince', () => {
  it('reads a duration back from now', () => {
    expect(parseSince('15m', NOW).toISOString()).toBe('2026-11-23T19:45:00.000Z');
  });

  it('reads an ISO-8601 time', () => {
    expect(parseSince('2026-11-23T08:30:00Z', NOW).toISOString()).toBe('2026-11-23T08:30:00.000Z');
  });

  it('fails if the time is in the future, which would select nothing', () => {
    expect(() => parseSince('2027-01-01T00:00:00Z', NOW)).toThrow(
      new RedriveUsageError(
        '--since is in the future (given 2027-01-01T00:00:00Z): name a past time or a duration like 2h',
      ),
    );
  });

  it('fails if the value is neither', () => {
    expect(() => parseSince('last tuesday', NOW)).toThrow(
      new RedriveUsageError(
        '--since must be an ISO-8601 time (2026-01-15T09:00:00Z) or a duration like 15m, 2h, 7d (given last tuesday)',
      ),
    );
  });
});

describe('runRedrive', () => {
  it('fails if the endpoint file is not JSON, with exit 2 and one line', async () => {
    // Given
    const file = join(tmpdir(), `redrive-bad-${process.pid}.json`);
    await writeFile(file, 'not json');
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'alpha', endpointFile: file }, output);

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: `driverless redrive: endpoint file ${file} is not JSON: start the embedded stack (npm start) or pass --endpoint-file\n`,
    });
  });

  it('fails if the endpoint file names no endpoints, with exit 2', async () => {
    // Given
    const file = join(tmpdir(), `redrive-empty-${process.pid}.json`);
    await writeFile(file, '{}');
    const { lines, output } = captureRedriveOutput();

    // When
    const code = await runRedrive({ source: 'alpha', endpointFile: file }, output);

    // Then
    expect({ code, stderr: lines.stderr }).toEqual({
      code: 2,
      stderr: `driverless redrive: endpoint file ${file} names no lambda, sqs, kinesis and s3 endpoints: restart the embedded stack (npm start)\n`,
    });
  });
});
