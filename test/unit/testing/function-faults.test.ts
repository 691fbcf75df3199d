import type { Invoke, InvokeCallOptions, InvokeResult } from '../../../emulator/index';
import { FunctionFaults } from '../../../testing/function-faults';

const EVENT = { Records: [] };

/** A function host's invoke that answers `{ ok: true }` and keeps the options of each call. */
function hostInvoke(): { invoke: Invoke; calls: (InvokeCallOptions | undefined)[] } {
  const calls: (InvokeCallOptions | undefined)[] = [];
  const invoke: Invoke = async (_name, _qualifier, _event, options) => {
    calls.push(options);
    return {
      payload: { ok: true },
      executedVersion: '1',
      durationMs: 5,
      requestId: `req-${calls.length}`,
    } as InvokeResult;
  };
  return { invoke, calls };
}

describe('FunctionFaults', () => {
  it('answers the next invocations with a thrown error without running the function, then runs it', async () => {
    // Given
    const host = hostInvoke();
    const faults = new FunctionFaults();
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
    expect(host.calls).toHaveLength(1);
    expect(faults.invocations('orders').map((i) => i.fault)).toStrictEqual([
      'throw',
      'throw',
      undefined,
    ]);
  });

  it('hands a timeout to the function host as a cut at afterMs, for the next invocations only', async () => {
    // Given
    const host = hostInvoke();
    const faults = new FunctionFaults();
    faults.arm('orders', { kind: 'timeout', times: 2, afterMs: 250 });
    const invoke = faults.wrap(host.invoke);

    // When
    for (let i = 0; i < 3; i += 1) await invoke('orders', 'live', EVENT);

    // Then
    expect(host.calls).toStrictEqual([
      { fault: { kind: 'timeout', afterMs: 250 } },
      { fault: { kind: 'timeout', afterMs: 250 } },
      undefined,
    ]);
    expect(faults.invocations('orders').map((i) => i.fault)).toStrictEqual([
      'timeout',
      'timeout',
      undefined,
    ]);
  });

  it('hands a kill to the function host as a cut before the handler runs by default', async () => {
    // Given
    const host = hostInvoke();
    const faults = new FunctionFaults();
    faults.arm('orders', { kind: 'kill' });

    // When
    await faults.wrap(host.invoke)(
      'arn:aws:lambda:us-east-1:000000000000:function:orders:live',
      undefined,
      EVENT,
    );

    // Then
    expect(host.calls).toStrictEqual([{ fault: { kind: 'kill', afterMs: 0 } }]);
  });

  it('faults only the function it is armed for', async () => {
    // Given
    const faults = new FunctionFaults();
    faults.arm('orders', { kind: 'throw' });

    // When
    const result = await faults.wrap(hostInvoke().invoke)('clicks', undefined, EVENT);

    // Then
    expect(result.functionError).toBeUndefined();
  });

  it('fails if times is not a positive integer', () => {
    // When / Then
    expect(() => new FunctionFaults().arm('orders', { kind: 'kill', times: 0 })).toThrow(
      'times must be an integer of 1 or more (given 0)',
    );
  });

  it('fails if afterMs is negative or not finite, or given with a throw, naming each problem', () => {
    // Given
    const faults = new FunctionFaults();

    // When / Then
    expect(() => faults.arm('orders', { kind: 'timeout', afterMs: -1 })).toThrow(
      'afterMs must be a finite number of 0 or more (given -1)',
    );
    expect(() => faults.arm('orders', { kind: 'kill', afterMs: Infinity, times: 1.5 })).toThrow(
      'times must be an integer of 1 or more (given 1.5); afterMs must be a finite number of 0 or more (given Infinity)',
    );
    expect(() => faults.arm('orders', { kind: 'throw', afterMs: 10 })).toThrow(
      'afterMs goes with timeout and kill (a throw fault never runs the handler)',
    );
  });
});
