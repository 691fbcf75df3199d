import type { FunctionLogLine, Invoke, InvokeResult } from '../emulator/index';
import type { KinesisEvent } from '../functions/kinesis/index';
import type { FunctionFault, RecordedInvocation } from './local-pipeline';

interface ArmedFault {
  readonly kind: FunctionFault['kind'];
  readonly message: string;
  remaining: number;
}

/** What the function host adds to an invoke result (it returns more than the Invoke type says). */
interface HostResult extends InvokeResult {
  readonly requestId?: string;
  readonly pid?: number;
}

const isError = (payload: unknown): payload is { errorType: string; errorMessage: string } =>
  typeof payload === 'object' &&
  payload !== null &&
  typeof (payload as { errorType?: unknown }).errorType === 'string';

/**
 * Sits between the mappings and the function host: records every invocation (with its log lines)
 * and answers the next invocations of a function with the fault armed for it.
 */
export class FunctionFaults {
  private readonly armed = new Map<string, ArmedFault>();
  private readonly recorded = new Map<string, RecordedInvocation[]>();
  /** Log lines by request id, until their invocation is recorded. */
  private readonly lines = new Map<string, string[]>();

  /**
   * @param timeoutSecondsOf the configured timeout of a function, for the timeout error's message
   * @param kill kills a process of the function host
   */
  constructor(
    private readonly timeoutSecondsOf: (functionName: string) => number,
    private readonly kill: (pid: number) => void = (pid) => process.kill(pid, 'SIGKILL'),
  ) {}

  arm(functionName: string, fault: FunctionFault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) {
      throw new Error(`times must be an integer of 1 or more (given ${times})`);
    }
    this.armed.set(functionName, {
      kind: fault.kind,
      message: fault.message ?? 'injected fault',
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
    return async (functionName, qualifier, event) => {
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
        result = (await invoke(functionName, qualifier, event)) as HostResult;
        if (fault !== undefined) result = this.spoil(name, fault.kind, result);
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

  /**
   * Replaces a finished invocation's answer with Lambda's answer for a timeout or a crash, and
   * kills the process that ran it: Lambda discards an environment after either.
   */
  private spoil(functionName: string, kind: 'timeout' | 'kill', result: HostResult): HostResult {
    const requestId = result.requestId ?? 'unknown';
    if (result.pid !== undefined) {
      try {
        this.kill(result.pid);
      } catch {
        // Already gone: the handler crashed by itself.
      }
    }
    const seconds = this.timeoutSecondsOf(functionName);
    const payload =
      kind === 'timeout'
        ? {
            errorType: 'Sandbox.Timedout',
            errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds.toFixed(2)} seconds`,
          }
        : {
            errorType: 'Runtime.ExitError',
            errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`,
          };
    return {
      ...result,
      payload,
      functionError: 'Unhandled',
      ...(kind === 'timeout' ? { durationMs: seconds * 1000 } : {}),
    };
  }
}
