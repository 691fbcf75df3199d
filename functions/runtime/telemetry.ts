import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE } from './environment';
import type { JobOutcome } from './jobs';

/** A stage's time in one batch, and its share of the invocation's GB-seconds. */
export interface StageReport {
  readonly durationMs: number;
  readonly gbSeconds: number | undefined;
}

/** What one batch did; logged as one JSON line and turned into metrics. */
export interface BatchReport {
  readonly source: string;
  readonly shardId: string;
  readonly batchId: string;
  readonly records: number;
  readonly deadLetters: number;
  readonly undeliveredDeadLetters: number;
  readonly jobs: Record<
    string,
    Omit<JobOutcome<unknown>, 'job' | 'failed'> & {
      failed: number;
      /** The job's share of the invocation's GB-seconds, by its measured time. */
      gbSeconds: number | undefined;
    }
  >;
  /** Age of the newest record when the batch finished. */
  readonly iteratorAgeMs: number | undefined;
  /** The sequence number reported back to Lambda, if the batch partly failed. */
  readonly failedFrom: string | undefined;
  readonly durationMs: number;
  readonly decodeMs: number;
  /** The stages computed, by name; absent when no job read one. */
  readonly stages: Record<string, StageReport> | undefined;
  /** Memory × billed duration, the init phase included on a cold start; unknown outside Lambda. */
  readonly gbSeconds: number | undefined;
}

/**
 * Dimensions of the per-source figures (`BatchRecords`, `DeadLetters`), besides Powertools'
 * `service`. Every function of a source (the main one and each isolated job's) reads every record
 * and dead-letters the ones it cannot decode, so without `FunctionName` CloudWatch would add the
 * functions together and count each record once per function. Job figures need no function: a job
 * runs in one function only.
 */
export const SOURCE_METRIC_DIMENSIONS = ['Source', 'FunctionName'] as const;

/**
 * Writes a batch's log line and metrics. Holds no per-invocation state: a batch's metrics are added
 * and published in one synchronous call, so two overlapping invocations in one process can never
 * publish each other's numbers, and the `Metrics` objects (one per dimension set: the source, and
 * the source with each job or stage) are made on first use and kept. Making them per batch read a dozen
 * environment variables and built a console each time, per batch and job.
 */
export class Telemetry {
  readonly logger: Logger;
  readonly #service: string;
  readonly #sources = new Map<string, Metrics>();
  readonly #jobs = new Map<string, Map<string, Metrics>>();
  readonly #stages = new Map<string, Map<string, Metrics>>();
  readonly #functionName: string;

  /** @param functionName the function reporting; outside Lambda, `local` */
  constructor(
    service: string,
    functionName: string = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'local',
  ) {
    this.#service = service;
    this.#functionName = functionName;
    this.logger = new Logger({ serviceName: service });
  }

  report(report: BatchReport): void {
    this.logger.info('batch', { batch: report });
    const source = this.#sourceMetrics(report.source);
    source.addMetric(METRICS.batchRecords, MetricUnit.Count, report.records);
    source.addMetric(METRICS.deadLetters, MetricUnit.Count, report.deadLetters);
    if (report.gbSeconds !== undefined) {
      source.addMetric(METRICS.batchGbSeconds, MetricUnit.NoUnit, report.gbSeconds);
    }
    source.publishStoredMetrics();
    for (const [job, outcome] of Object.entries(report.jobs)) {
      const metrics = this.#dimensionMetrics(this.#jobs, report.source, 'Job', job);
      metrics.addMetric(METRICS.jobRecords, MetricUnit.Count, outcome.records);
      metrics.addMetric(METRICS.jobFailedRecords, MetricUnit.Count, outcome.failed);
      metrics.addMetric(METRICS.jobDuration, MetricUnit.Milliseconds, outcome.durationMs);
      if (outcome.gbSeconds !== undefined) {
        metrics.addMetric(METRICS.jobGbSeconds, MetricUnit.NoUnit, outcome.gbSeconds);
      }
      metrics.publishStoredMetrics();
    }
    for (const [stage, { gbSeconds }] of Object.entries(report.stages ?? {})) {
      if (gbSeconds === undefined) continue;
      const metrics = this.#dimensionMetrics(this.#stages, report.source, 'Stage', stage);
      metrics.addMetric(METRICS.stageGbSeconds, MetricUnit.NoUnit, gbSeconds);
      metrics.publishStoredMetrics();
    }
  }

  #sourceMetrics(source: string): Metrics {
    let metrics = this.#sources.get(source);
    if (metrics === undefined) {
      metrics = this.#metrics({ Source: source, FunctionName: this.#functionName });
      this.#sources.set(source, metrics);
    }
    return metrics;
  }

  /** The metrics of a job or a stage of `source`, kept in `cache`. */
  #dimensionMetrics(
    cache: Map<string, Map<string, Metrics>>,
    source: string,
    dimension: 'Job' | 'Stage',
    name: string,
  ): Metrics {
    let ofSource = cache.get(source);
    if (ofSource === undefined) {
      ofSource = new Map();
      cache.set(source, ofSource);
    }
    let metrics = ofSource.get(name);
    if (metrics === undefined) {
      metrics = this.#metrics({ Source: source, [dimension]: name });
      ofSource.set(name, metrics);
    }
    return metrics;
  }

  // Default dimensions outlive `publishStoredMetrics`, which clears the metrics and any other
  // dimensions: each publish carries exactly `service` and these.
  #metrics(dimensions: Record<string, string>): Metrics {
    return new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: this.#service,
      defaultDimensions: dimensions,
    });
  }
}
