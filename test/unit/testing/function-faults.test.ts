import type { Invoke, InvokeResult } from '../../../emulator/index';
import { FunctionFaults } from '../../../testing/function-faults';

const EVENT = { Records: [] };

/** A function host's invoke that answers `{ ok: true }` from process 4242 and counts its calls. */
function hostInvoke(): { invoke: Invoke; calls: () => number } {
  let calls = 0;
  const invoke: Invoke = async () => {
    calls += 1;
    return {
      payload: { ok: true },
      executedVersion: '1',
      durationMs: 5,
      requestId: `req-${calls}`,
      pid: 4242,
    } as InvokeResult;
  };
  return { invoke, calls: () => calls };
}

describe('FunctionFaults', () => {
  it('answers the next invocations with a thrown error without running the function, then runs it', async () => {
    // Given
    const host = hostInvoke();
    const faults = new FunctionFaults(() => 30);
    const invoke = faults.wrap(host.invoke);
    faults.arm('orders', { kind: 'throw', times: 2, message: 'boom' });

    // When
    const results = [
      await invoke('orders', 'live', EVENT),
      await invoke('orders', 'live', EVENT),
      await invoke('orders', 'live', EVENT),
    ];

    // Then
    expect(results.map((r) => [r.functionError, r.payload])).toStrictEqual([
      ['Unhandled', { errorType: 'Error', errorMessage: 'boom', trace: [] }],
      ['Unhandled', { errorType: 'Error', errorMessage: 'boom', trace: [] }],
      [undefined, { ok: true }],
    ]);
    expect(host.calls()).toBe(1);
    expect(faults.invocations('orders').map((i) => i.fault)).toStrictEqual([
      'throw',
      'throw',
      undefined,
    ]);
  });

  it('runs the function for a timeout, then answers with Lambda timeout error and discards its process', async () => {
    // Given
    const host = hostInvoke();
    const killed: number[] = [];
    const faults = new FunctionFaults(
      () => 30,
      (pid) => killed.push(pid),
    );
    faults.arm('orders', { kind: 'timeout' });

    // When
    const result = await faults.wrap(host.invoke)('orders', 'live', EVENT);

    // Then
    expect(host.calls()).toBe(1);
    expect(result).toMatchObject({
      functionError: 'Unhandled',
      durationMs: 30_000,
      payload: {
        errorType: 'Sandbox.Timedout',
        errorMessage: 'RequestId: req-1 Error: Task timed out after 30.00 seconds',
      },
    });
    expect(killed).toStrictEqual([4242]);
  });

  it('faults only the function it is armed for', async () => {
    // Given
    const faults = new FunctionFaults(() => 30);
    faults.arm('orders', { kind: 'throw' });

    // When
    const result = await faults.wrap(hostInvoke().invoke)('clicks', undefined, EVENT);

    // Then
    expect(result.functionError).toBeUndefined();
  });

  it('fails if times is not a positive integer', () => {
    // When / Then
    expect(() => new FunctionFaults(() => 30).arm('orders', { kind: 'kill', times: 0 })).toThrow(
      'times must be an integer of 1 or more (given 0)',
    );
  });
});
