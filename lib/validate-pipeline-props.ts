import { type Duration, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { isNewStream } from './concurrency-budget';
import { DEFAULTS, type ResolvedPipelineProps, type ResolvedSourceProps } from './defaults';
import { CONSUMER_NAME, consumerName, STREAM_NAME } from './physical-names';

/**
 * Every problem found in one pipeline's props, reported together: thrown by
 * `MicroBatchPipeline.source()` on a pipeline built from invalid props (synth itself reports them
 * as one validation error).
 */
export class PipelinePropsError extends Error {
  override readonly name = 'PipelinePropsError';
  constructor(
    readonly pipeline: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid props for MicroBatchPipeline '${pipeline}':\n  - ${problems.join('\n  - ')}`);
  }
}

const SOURCE_NAME = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const PIPELINE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const JOB_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const RESERVED_ENVIRONMENT_PREFIX = 'DRIVERLESS_';
/** Enhanced fan-out consumers per stream (docs/event-source-mapping.md#enhanced-fan-out). */
const MAX_CONSUMERS_PER_STREAM = 20;
/** Filters per mapping: 5 by default, raisable to 10 (docs/event-source-mapping.md#filtering). */
const MAX_FILTERS = 10;

/**
 * Checks resolved props against the ranges AWS enforces (docs/event-source-mapping.md#mapping-parameters)
 * and our own rules.
 * Unresolved tokens are skipped: they can only be checked at deploy time.
 *
 * @returns every problem, each naming the prop path, the valid range and the given value
 */
export function validatePipelineProps(props: ResolvedPipelineProps): string[] {
  const problems: string[] = [];
  const names = Object.keys(props.sources);
  if (names.length === 0) problems.push('sources must name at least one source (given none)');
  if (!Token.isUnresolved(props.pipelineName) && !PIPELINE_NAME.test(props.pipelineName)) {
    problems.push(
      `pipelineName must be 1 to 64 letters, digits, '-' or '_' (given '${props.pipelineName}')`,
    );
  }
  integerAtLeast(problems, 'concurrencyBudget', props.concurrencyBudget, 1);
  durationBetween(
    problems,
    'iteratorAgeAlarmThreshold',
    props.iteratorAgeAlarmThreshold,
    1,
    Infinity,
  );
  wholeDaysBetween(problems, 'failureRetention', props.failureRetention, 1, 14);
  reservedEnvironment(problems, 'environment', props.environment);
  const { perGbSecond, perMillionRequests } = props.pricing ?? {};
  if (perGbSecond !== undefined && !(perGbSecond > 0 && Number.isFinite(perGbSecond))) {
    problems.push(`pricing.perGbSecond must be a price greater than 0 (given ${perGbSecond})`);
  }
  if (
    perMillionRequests !== undefined &&
    !(perMillionRequests >= 0 && Number.isFinite(perMillionRequests))
  ) {
    problems.push(
      `pricing.perMillionRequests must be a price of 0 or more (given ${perMillionRequests})`,
    );
  }
  stateTickInterval(problems, props);

  const consumersByStream = new Map<object, string[]>();
  for (const name of names) {
    const source = props.sources[name]!;
    const path = `sources.${name}`;
    if (!SOURCE_NAME.test(name)) {
      problems.push(
        `${path}: source names must be 1 to 64 letters and digits, starting with a letter (given '${name}')`,
      );
    }
    validateSource(problems, path, source);
    if (
      props.checkpoints &&
      !Token.isUnresolved(source.parallelizationFactor) &&
      source.parallelizationFactor > 1
    ) {
      problems.push(
        `${path}.parallelizationFactor must be 1 with checkpoints (given ${source.parallelizationFactor}): ` +
          'a per-shard cursor is wrong when one shard has several batches in flight',
      );
    }
    consumerNames(problems, `${path}.isolateJobs`, props.pipelineName, name, source.isolateJobs);
    const consumers = consumersByStream.get(source.stream) ?? [];
    consumers.push(...source.isolateJobs.map((job) => `${name}.${job}`));
    consumersByStream.set(source.stream, consumers);
  }
  for (const consumers of consumersByStream.values()) {
    if (consumers.length > MAX_CONSUMERS_PER_STREAM) {
      problems.push(
        `isolateJobs must add at most ${MAX_CONSUMERS_PER_STREAM} enhanced fan-out consumers per stream ` +
          `(given ${consumers.length}: ${consumers.join(', ')})`,
      );
    }
  }
  return problems;
}

function validateSource(problems: string[], path: string, source: ResolvedSourceProps): void {
  if (isNewStream(source.stream)) {
    integerAtLeast(problems, `${path}.stream.shardCount`, source.stream.shardCount, 1);
    if (source.stream.retentionPeriod !== undefined) {
      durationBetween(
        problems,
        `${path}.stream.retentionPeriod`,
        source.stream.retentionPeriod,
        24 * 3600,
        8760 * 3600,
      );
    }
    streamName(problems, `${path}.stream.streamName`, source.stream.streamName);
    if (source.shardCount !== undefined) {
      problems.push(
        `${path}.shardCount and ${path}.stream.shardCount are mutually exclusive: ` +
          `shardCount is a hint for imported streams only (given ${source.shardCount} and ${source.stream.shardCount})`,
      );
    }
  } else if (source.shardCount !== undefined) {
    integerAtLeast(problems, `${path}.shardCount`, source.shardCount, 1);
  }
  if (!Token.isUnresolved(source.entry) && source.entry.trim() === '') {
    problems.push(`${path}.entry must be the path of a handler module (given '')`);
  }
  integerBetween(problems, `${path}.batchSize`, source.batchSize, 1, 10_000);
  durationBetween(problems, `${path}.maxBatchingWindow`, source.maxBatchingWindow, 0, 300);
  integerBetween(problems, `${path}.parallelizationFactor`, source.parallelizationFactor, 1, 10);
  integerBetween(problems, `${path}.retryAttempts`, source.retryAttempts, 0, 10_000);
  durationBetween(problems, `${path}.maxRecordAge`, source.maxRecordAge, 60, 604_800);
  if (source.tumblingWindow !== undefined) {
    durationBetween(problems, `${path}.tumblingWindow`, source.tumblingWindow, 0, 900);
  }
  if (source.filters !== undefined && source.filters.length > MAX_FILTERS) {
    problems.push(
      `${path}.filters must hold at most ${MAX_FILTERS} patterns (given ${source.filters.length})`,
    );
  }
  if (source.reservedConcurrentExecutions !== undefined) {
    integerAtLeast(
      problems,
      `${path}.reservedConcurrentExecutions`,
      source.reservedConcurrentExecutions,
      1,
    );
  }
  integerBetween(problems, `${path}.memorySize`, source.memorySize, 128, 10_240);
  durationBetween(problems, `${path}.timeout`, source.timeout, 1, 900);
  reservedEnvironment(problems, `${path}.environment`, source.environment);
  startingPosition(problems, path, source);
  jobNames(problems, `${path}.isolateJobs`, source.isolateJobs);
  jobNames(problems, `${path}.jobs`, source.jobs);
}

/** `AT_TIMESTAMP` and `startingPositionTimestamp` need each other (CreateEventSourceMapping API). */
function startingPosition(problems: string[], path: string, source: ResolvedSourceProps): void {
  const atTimestamp = source.startingPosition === lambda.StartingPosition.AT_TIMESTAMP;
  const timestamp = source.startingPositionTimestamp;
  if (atTimestamp && timestamp === undefined) {
    problems.push(
      `${path}.startingPositionTimestamp is required when startingPosition is AT_TIMESTAMP (given none)`,
    );
  }
  if (!atTimestamp && timestamp !== undefined) {
    problems.push(
      `${path}.startingPositionTimestamp and startingPosition ${source.startingPosition} are mutually exclusive: ` +
        `a timestamp needs AT_TIMESTAMP (given ${timestamp})`,
    );
  }
  if (timestamp !== undefined && !Token.isUnresolved(timestamp) && !(timestamp >= 0)) {
    problems.push(
      `${path}.startingPositionTimestamp must be Unix seconds, at least 0 (given ${timestamp})`,
    );
  }
}

/**
 * Each isolated job's consumer is named `<pipeline>-<source>-<job>`, which names alone at their
 * longest would take to 194 characters; CloudFormation refuses the consumer past 128.
 */
function consumerNames(
  problems: string[],
  path: string,
  pipelineName: string,
  sourceName: string,
  jobs: readonly string[],
): void {
  if (Token.isUnresolved(pipelineName)) return;
  for (const job of jobs) {
    if (Token.isUnresolved(job)) continue;
    const name = consumerName(pipelineName, sourceName, job);
    if (name.length > CONSUMER_NAME.maxLength) {
      problems.push(
        `${path}: the consumer of job '${job}' is named '<pipelineName>-<source>-<job>', which must be at most ` +
          `${CONSUMER_NAME.maxLength} characters (given ${name.length}: '${name}'); shorten pipelineName, the source name or the job name`,
      );
    }
  }
}

/**
 * EventBridge rate expressions take a whole number of minutes, at least 1; a day bounds how late a
 * window on a quiet stream may close (and the ticks' maximum event age, at most 24 hours).
 */
function stateTickInterval(problems: string[], props: ResolvedPipelineProps): void {
  const interval = props.stateTickInterval;
  if (interval.isUnresolved()) return;
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
    problems.push(
      `stateTickInterval must be whole minutes between 1 minute and 1 day, e.g. Duration.minutes(${Math.min(1440, Math.max(1, Math.round(minutes)))}) (given ${interval.toHumanString()})`,
    );
  }
  const stateful = Object.values(props.sources).some((source) => source.state);
  // The default is the same object when the user gave none.
  if (!stateful && interval !== DEFAULTS.pipeline.stateTickInterval) {
    problems.push(
      `stateTickInterval needs state: set state: true on the pipeline or on a source, or remove stateTickInterval (given ${interval.toHumanString()} with no stateful source)`,
    );
  }
}

function streamName(problems: string[], path: string, name: string | undefined): void {
  if (name === undefined || Token.isUnresolved(name)) return;
  if (name.length > STREAM_NAME.maxLength || !STREAM_NAME.pattern.test(name)) {
    problems.push(
      `${path} must be 1 to ${STREAM_NAME.maxLength} letters, digits, '_', '.' or '-' (given '${name}', ${name.length} characters)`,
    );
  }
}

function jobNames(problems: string[], path: string, jobs: readonly string[]): void {
  const seen = new Set<string>();
  for (const job of jobs) {
    if (Token.isUnresolved(job)) continue;
    if (!JOB_NAME.test(job)) {
      problems.push(`${path} names must be 1 to 64 letters, digits, '-' or '_' (given '${job}')`);
    } else if (seen.has(job)) {
      problems.push(`${path} must not repeat a job (given '${job}' twice)`);
    }
    seen.add(job);
  }
}

function reservedEnvironment(
  problems: string[],
  path: string,
  environment: Readonly<Record<string, string>> | undefined,
): void {
  for (const key of Object.keys(environment ?? {})) {
    if (key.startsWith(RESERVED_ENVIRONMENT_PREFIX)) {
      problems.push(
        `${path}.${key} is reserved: names starting with ${RESERVED_ENVIRONMENT_PREFIX} are set by the pipeline`,
      );
    }
  }
}

function integerBetween(
  problems: string[],
  path: string,
  value: number,
  min: number,
  max: number,
): void {
  if (Token.isUnresolved(value)) return;
  const whole = Number.isInteger(value) ? '' : 'a whole number ';
  if (whole || value < min || value > max) {
    problems.push(`${path} must be ${whole}between ${min} and ${max} (given ${value})`);
  }
}

function integerAtLeast(problems: string[], path: string, value: number, min: number): void {
  if (Token.isUnresolved(value)) return;
  const whole = Number.isInteger(value) ? '' : 'a whole number ';
  if (whole || !(value >= min)) {
    problems.push(`${path} must be ${whole}at least ${min} (given ${value})`);
  }
}

/** Durations in whole days, as S3 lifecycle rules take them. */
function wholeDaysBetween(
  problems: string[],
  path: string,
  value: Duration,
  min: number,
  max: number,
): void {
  if (value.isUnresolved()) return;
  const days = value.toDays({ integral: false });
  const whole = Number.isInteger(days) ? '' : 'whole days ';
  if (whole || days < min || days > max) {
    problems.push(
      `${path} must be ${whole}between ${min} and ${max} days (given ${value.toHumanString()})`,
    );
  }
}

/** Durations in whole seconds, as the Lambda and Kinesis APIs take them. */
function durationBetween(
  problems: string[],
  path: string,
  value: Duration,
  min: number,
  max: number,
): void {
  if (value.isUnresolved()) return;
  const seconds = value.toSeconds({ integral: false });
  const whole = Number.isInteger(seconds) ? '' : 'whole seconds ';
  const range = max === Infinity ? `at least ${min} seconds` : `between ${min} and ${max} seconds`;
  if (whole || seconds < min || seconds > max) {
    problems.push(`${path} must be ${whole}${range} (given ${value.toHumanString()})`);
  }
}
