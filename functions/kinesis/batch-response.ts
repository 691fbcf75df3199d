import { compareSequenceNumbers } from './sequence-numbers';

/**
 * The partial batch response (docs/event-source-mapping.md#partial-batch-response), with `state`
 * for tumbling windows (docs/event-source-mapping.md#window-response).
 */
export interface BatchResponse<State = never> {
  batchItemFailures: { itemIdentifier: string }[];
  state?: State;
}

/** One invocation's result, as the mapping sees it. */
export interface InvocationResult {
  /** The handler's return value (or the error object when `functionError` is set). */
  readonly payload: unknown;
  /** `Unhandled` when the handler threw, timed out or its process died. */
  readonly functionError?: 'Unhandled' | undefined;
}

/**
 * How Lambda reads one invocation's result (docs/event-source-mapping.md#partial-batch-response,
 * docs/event-source-mapping.md#window-response).
 */
export type BatchOutcome =
  | { kind: 'success'; state?: Record<string, unknown> }
  /** Records from `retryFrom` (index in the batch) onward are retried; earlier ones are checkpointed. */
  | { kind: 'partial'; retryFrom: number; state?: Record<string, unknown> }
  | { kind: 'failure'; functionError: 'Unhandled' | null; reason: string };

export interface BatchResponseOptions {
  /** `FunctionResponseTypes` contains `ReportBatchItemFailures`. */
  reportBatchItemFailures: boolean;
  /** Tumbling windows are on: the response must carry `state`. */
  tumblingWindow: boolean;
}

/**
 * Classifies a result against the batch's sequence numbers (in batch order).
 *
 * - `functionError` set: whole batch failed (retried whole, or bisected).
 * - Without ReportBatchItemFailures the payload is ignored: success.
 * - Success forms (all observed on AWS): `null`/missing response, `""`, `{}`, a bare array,
 *   `batchItemFailures` missing, `null` or `[]`. A non-object, non-empty return (string, number) has
 *   no `batchItemFailures` either and also reads as success (unconfirmed).
 * - Failure forms: an item without a string `itemIdentifier` (`""`, `null`, number, bad key name), and
 *   an identifier that is not a sequence number of this batch. AWS was recorded failing the whole
 *   batch for the unknown numeric identifier `123`; the unknown *string* case is unconfirmed and the
 *   emulator fails the whole batch there too, rather than silently checkpointing records the function
 *   said it did not process. `batchItemFailures` that is not an array also fails the batch.
 * - Otherwise: partial, retrying from the lowest listed sequence number (compared as big integers).
 */
export function classifyBatchResponse(
  result: InvocationResult,
  sequenceNumbers: readonly string[],
  options: BatchResponseOptions,
): BatchOutcome {
  if (result.functionError) {
    return { kind: 'failure', functionError: result.functionError, reason: 'function error' };
  }
  const payload = result.payload;
  let state: Record<string, unknown> | undefined;
  if (options.tumblingWindow) {
    // A window invocation must return an object with `state`; Lambda fails the call without one.
    const candidate = isObject(payload) ? payload.state : undefined;
    if (!isObject(candidate)) {
      return { kind: 'failure', functionError: null, reason: 'response has no state object' };
    }
    state = candidate;
  }
  if (!options.reportBatchItemFailures || !isObject(payload)) {
    return { kind: 'success', state };
  }
  const failures = payload.batchItemFailures;
  if (failures === undefined || failures === null) return { kind: 'success', state };
  if (!Array.isArray(failures)) {
    return { kind: 'failure', functionError: null, reason: 'batchItemFailures is not an array' };
  }
  if (failures.length === 0) return { kind: 'success', state };

  const known = new Set(sequenceNumbers);
  let lowest: string | undefined;
  for (const item of failures) {
    const identifier = isObject(item) ? item.itemIdentifier : undefined;
    if (typeof identifier !== 'string' || identifier === '') {
      return {
        kind: 'failure',
        functionError: null,
        reason: `invalid batch item failure ${JSON.stringify(item)}`,
      };
    }
    if (!known.has(identifier)) {
      return {
        kind: 'failure',
        functionError: null,
        reason: `itemIdentifier ${identifier} is not in the batch`,
      };
    }
    if (lowest === undefined || compareSequenceNumbers(identifier, lowest) < 0) lowest = identifier;
  }
  return { kind: 'partial', retryFrom: sequenceNumbers.indexOf(lowest as string), state };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
