import type { EventSourceMappingConfig } from '../model';
import { compileFilterPattern } from './filterPattern';

/**
 * Checks the ranges AWS enforces at CreateEventSourceMapping
 * (docs/event-source-mapping.md#mapping-parameters) and throws one error
 * listing every problem, each naming the field, the given value and the range.
 */
export function validateMappingConfig(config: EventSourceMappingConfig): void {
  const problems: string[] = [];
  const range = (name: string, value: number, min: number, max: number, allowMinusOne = false) => {
    const ok =
      Number.isInteger(value) &&
      ((value >= min && value <= max) || (allowMinusOne && value === -1));
    if (!ok) {
      problems.push(
        `${name} must be ${allowMinusOne ? '-1 or ' : ''}between ${min} and ${max} (given ${value})`,
      );
    }
  };
  range('batchSize', config.batchSize, 1, 10_000);
  range('maximumBatchingWindowSeconds', config.maximumBatchingWindowSeconds, 0, 300);
  range('parallelizationFactor', config.parallelizationFactor, 1, 10);
  range('maximumRetryAttempts', config.maximumRetryAttempts, 0, 10_000, true);
  range('maximumRecordAgeSeconds', config.maximumRecordAgeSeconds, 60, 604_800, true);
  range('tumblingWindowSeconds', config.tumblingWindowSeconds, 0, 900);
  if (!['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'].includes(config.startingPosition)) {
    problems.push(
      `startingPosition must be TRIM_HORIZON, LATEST or AT_TIMESTAMP (given ${config.startingPosition})`,
    );
  }
  if (
    config.startingPosition === 'AT_TIMESTAMP' &&
    config.startingPositionTimestamp === undefined
  ) {
    problems.push('startingPositionTimestamp is required with startingPosition AT_TIMESTAMP');
  }
  if (!/^arn:[^:]+:kinesis:[^:]*:[^:]*:stream\/[^/]+$/.test(config.streamArn)) {
    problems.push(`streamArn must be a Kinesis stream ARN (given ${config.streamArn})`);
  }
  for (const [index, pattern] of config.filters.entries()) {
    try {
      compileFilterPattern(pattern);
    } catch (error) {
      problems.push(`filters[${index}]: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`event source mapping ${config.logicalId} is invalid: ${problems.join('; ')}`);
  }
}
