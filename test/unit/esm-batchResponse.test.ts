import type { InvokeResult } from '../../emulator/model';
import { classifyBatchResponse } from '../../functions/kinesis/index';

// Numeric order; as strings the last one sorts first.
const seqs = [`1${'0'.repeat(54)}`, '9'.repeat(56), `1${'0'.repeat(56)}`];
const rbif = { reportBatchItemFailures: true, tumblingWindow: false };

function result(payload: unknown, functionError?: 'Unhandled'): InvokeResult {
  return {
    payload,
    executedVersion: '$LATEST',
    durationMs: 1,
    ...(functionError && { functionError }),
  };
}

describe('batch response classification', () => {
  test('compares sequence numbers as big integers, not as strings', () => {
    // given: the third sequence number is the largest but sorts first as a string
    const payload = {
      batchItemFailures: [{ itemIdentifier: seqs[2] }, { itemIdentifier: seqs[1] }],
    };
    // when
    const outcome = classifyBatchResponse(result(payload), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({ kind: 'partial', retryFrom: 1, state: undefined });
  });

  test('a function error is a failure with functionError Unhandled', () => {
    // when
    const outcome = classifyBatchResponse(result({ errorMessage: 'x' }, 'Unhandled'), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({
      kind: 'failure',
      functionError: 'Unhandled',
      reason: 'function error',
    });
  });

  test('a non-object, non-empty return reads as success (UNCONFIRMED choice)', () => {
    // when / then
    expect(classifyBatchResponse(result('done'), seqs, rbif).kind).toBe('success');
  });

  test('fails if batchItemFailures is not an array', () => {
    // when / then
    expect(classifyBatchResponse(result({ batchItemFailures: 'x' }), seqs, rbif).kind).toBe(
      'failure',
    );
  });

  test('fails a tumbling-window call that returns no state', () => {
    // when
    const outcome = classifyBatchResponse(result({ batchItemFailures: [] }), seqs, {
      reportBatchItemFailures: true,
      tumblingWindow: true,
    });
    // then
    expect(outcome).toStrictEqual({
      kind: 'failure',
      functionError: null,
      reason: 'response has no state object',
    });
  });

  test('a tumbling-window call carries its returned state with the outcome', () => {
    // when
    const outcome = classifyBatchResponse(result({ state: { n: 3 } }), seqs, {
      reportBatchItemFailures: false,
      tumblingWindow: true,
    });
    // then
    expect(outcome).toStrictEqual({ kind: 'success', state: { n: 3 } });
  });

  test.each([
    ['an empty object', {}],
    ['batchItemFailures null', { batchItemFailures: null }],
    ['batchItemFailures empty', { batchItemFailures: [] }],
  ])('%s reads as success, checkpointing the whole batch', (_name, payload) => {
    // when
    const outcome = classifyBatchResponse(result(payload), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({ kind: 'success', state: undefined });
  });

  test('fails if batchItemFailures is an object, rather than throwing', () => {
    // when
    const outcome = classifyBatchResponse(result({ batchItemFailures: { n: 1 } }), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({
      kind: 'failure',
      functionError: null,
      reason: 'batchItemFailures is not an array',
    });
  });

  test.each([
    ['an empty itemIdentifier', { itemIdentifier: '' }],
    ['a numeric itemIdentifier', { itemIdentifier: 123 }],
    ['a misspelt key', { itemIdentifer: seqs[1] }],
  ])('fails the whole batch for %s', (_name, item) => {
    // when
    const outcome = classifyBatchResponse(result({ batchItemFailures: [item] }), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({
      kind: 'failure',
      functionError: null,
      reason: `invalid batch item failure ${JSON.stringify(item)}`,
    });
  });

  test('fails the whole batch for a sequence number not in it', () => {
    // given: a valid sequence number, but of no record in this batch
    const unknown = `2${'0'.repeat(56)}`;
    // when
    const outcome = classifyBatchResponse(
      result({ batchItemFailures: [{ itemIdentifier: unknown }] }),
      seqs,
      rbif,
    );
    // then
    expect(outcome).toStrictEqual({
      kind: 'failure',
      functionError: null,
      reason: `itemIdentifier ${unknown} is not in the batch`,
    });
  });

  test('retries from the lowest listed sequence number when it is listed first', () => {
    // given: the lowest first, then a higher one
    const payload = {
      batchItemFailures: [{ itemIdentifier: seqs[0] }, { itemIdentifier: seqs[2] }],
    };
    // when
    const outcome = classifyBatchResponse(result(payload), seqs, rbif);
    // then
    expect(outcome).toStrictEqual({ kind: 'partial', retryFrom: 0, state: undefined });
  });

  test('ignores batchItemFailures without ReportBatchItemFailures', () => {
    // when
    const outcome = classifyBatchResponse(
      result({ batchItemFailures: [{ itemIdentifier: seqs[0] }] }),
      seqs,
      { reportBatchItemFailures: false, tumblingWindow: false },
    );
    // then
    expect(outcome).toStrictEqual({ kind: 'success', state: undefined });
  });
});
