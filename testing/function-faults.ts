import type { FunctionLogLine, Invoke, InvokeResult } from '../emulator/index';
import type { KinesisEvent } from '../functions/kinesis/index';
import type { FunctionFault, RecordedInvocation } from './local-pipeline';

interface ArmedFault {
  readonly kind: FunctionFault['kind'];
  readonly message: string;
  readonly afterMs: number;
  remaining: number;
}

/** What the function host adds to an invoke result (it returns more than the Invoke type says). */
interface HostResult extends InvokeResult {
  readonly requestId?: string;
}

const isError = (payload: unknown): payload is { errorType: string; errorMessage: string } =>
  typeof payload === 'object' &&
  payload !== null &&
  typeof (payload as { errorType?: unknown }).errorType === 'string';

/**
 * Sits between the mappings and the function host: records every invocation (with its log lines)
 * and answers the next invocations of a function with the fault armed for it. A `throw` is
 * answered here without running the handler; a `timeout` or a `kill` is handed to the function
 * host, which cuts the running invocation as Lambda's timeout (or a crash) does.
 */
export class FunctionFaults {
  private readonly armed = new Map<string, ArmedFault>();
  private readonly recorded = new Map<string, RecordedInvocation[]>();
  /** Log lines by request id, until their invocation is recorded. */
  private readonly lines = new Map<string, string[]>();

  /** @throws when the fault's options are out of range, naming each problem */
  arm(functionName: string, fault: FunctionFault): void {
    const times = fault.times ?? 1;
    const afterMs = fault.afterMs ?? 0;
    const problems = [
      !Number.isInteger(times) || times < 1
        ? `times must be an integer of 1 or more (given ${times})`
        : undefined,
      !(Number.isFinite(afterMs) && afterMs >= 0)
        ? `afterMs must be a finite number of 0 or more (given ${afterMs})`
        : undefined,
      fault.kind === 'throw' && fault.afterMs !== undefined
        ? 'afterMs goes with timeout and kill (a throw fault never runs the handler)'
        : undefined,
    ].filter((problem) => problem !== undefined);
    if (problems.length > 0) throw new Error(problems.join('; '));
    this.armed.set(functionName, {
      kind: fault.kind,
      message: fault.message ?? 'injected fault',
      afterMs,
      remaining: times,
    });
  }

  clear(): void {
    this.armed.clear();
  }

  invocations(functionName: string): RecordedInvocation[] {
    return [...(this.recorded.get(functionName) ?? [])];
  }

  /** The function host's `onLog`. */
  readonly onLog = (_functionName: string, line: FunctionLogLine): void => {
    if (line.requestId === undefined) return;
    const lines = this.lines.get(line.requestId) ?? [];
    lines.push(line.text);
    this.lines.set(line.requestId, lines);
  };

  /** The embedded stack's `wrapInvoke`. */
  readonly wrap = (invoke: Invoke): Invoke => {
    return async (functionName, qualifier, event, options) => {
      const name =
        functionName.includes(':') && !functionName.startsWith('arn:')
          ? functionName.slice(0, functionName.indexOf(':'))
          : functionName.replace(/^arn:.*:function:([^:]+).*$/, '$1');
      const fault = this.take(name);
      const started = performance.now();
      let result: HostResult;
      if (fault?.kind === 'throw') {
        result = {
          payload: { errorType: 'Error', errorMessage: fault.message, trace: [] },
          functionError: 'Unhandled',
          executedVersion: qualifier ?? '$LATEST',
          durationMs: performance.now() - started,
        };
      } else {
        result = (await invoke(
          functionName,
          qualifier,
          event,
          fault === undefined
            ? options
            : { ...options, fault: { kind: fault.kind, afterMs: fault.afterMs } },
        )) as HostResult;
      }
      const logs = result.requestId === undefined ? [] : (this.lines.get(result.requestId) ?? []);
      if (result.requestId !== undefined) this.lines.delete(result.requestId);
      const recorded = this.recorded.get(name) ?? [];
      recorded.push({
        functionName: name,
        version: result.executedVersion,
        event: event as KinesisEvent,
        response: result.functionError ? undefined : result.payload,
        error:
          result.functionError && isError(result.payload)
            ? { errorType: result.payload.errorType, errorMessage: result.payload.errorMessage }
            : undefined,
        durationMs: result.durationMs,
        fault: fault?.kind,
        logs,
      });
      this.recorded.set(name, recorded);
      return result;
    };
  };

  private take(functionName: string): ArmedFault | undefined {
    const fault = this.armed.get(functionName);
    if (fault === undefined) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.armed.delete(functionName);
    return fault;
  }
}
