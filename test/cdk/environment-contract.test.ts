import { S3_ON_FAILURE_PREFIX } from '../../functions/kinesis/on-failure-record';
import { DEAD_LETTER_KEY_PREFIX } from '../../functions/runtime/dead-letter';
import { ENVIRONMENT, METRICS, METRICS_NAMESPACE } from '../../functions/runtime/environment';
import { SOURCE_METRIC_DIMENSIONS as RUNTIME_SOURCE_DIMENSIONS } from '../../functions/runtime/telemetry';
import {
  ENVIRONMENT_NAMES,
  METRICS_NAMESPACE as LIB_METRICS_NAMESPACE,
  METRIC_NAMES,
  S3_KEY_PREFIXES,
  SOURCE_METRIC_DIMENSIONS,
} from '../../lib/environment-names';

// lib/ may not import functions/, so it repeats these names; this keeps both sides equal.
describe('environment contract', () => {
  test('sets the variable names the runtime reads', () => {
    // then
    expect(ENVIRONMENT_NAMES).toStrictEqual(ENVIRONMENT);
  });

  test('draws the metric names and namespace the runtime emits', () => {
    // then
    expect(METRIC_NAMES).toStrictEqual(METRICS);
    expect(LIB_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
  });

  test('draws per-source figures with the dimensions the runtime emits them with', () => {
    // then
    expect(SOURCE_METRIC_DIMENSIONS).toStrictEqual(RUNTIME_SOURCE_DIMENSIONS);
  });

  test('lets functions write exactly where the runtime and Lambda put failure objects', () => {
    // then
    expect(S3_KEY_PREFIXES).toStrictEqual({
      deadLetters: DEAD_LETTER_KEY_PREFIX,
      onFailure: S3_ON_FAILURE_PREFIX,
    });
  });
});
