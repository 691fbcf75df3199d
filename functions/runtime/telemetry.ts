import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS, METRICS_NAMESPACE } from './environment';
import type { JobOutcome } from './jobs';

/** What one batch did; logged as one JSON line and turned into metrics. */
export interface BatchReport {
  readonly source: string;
  readonly shardId: string;
  readonly batchId: string;
  readonly records: number;
  readonly deadLetters: number;
  readonly undeliveredDeadLetters: number;
  readonly jobs: Record<string, Omit<JobOutcome<unknown>, 'job' | 'failed'> & { failed: number }>;
  /** Age of the newest record when the batch finished. */
  readonly iteratorAgeMs: number | undefined;
  /** The sequence number reported back to Lambda, if the batch partly failed. */
  readonly failedFrom: string | undefined;
  readonly durationMs: number;
}

/**
 * Dimensions of the per-source figures (`BatchRecords`, `DeadLetters`), besides Powertools'
 * `service`. Every function of a source (the main one and each isolated job's) reads every record
 * and dead-letters the ones it cannot decode, so without `FunctionName` CloudWatch would add the
 * functions together and count each record once per function. Job figures need no function: a job
 * runs in one function only.
 */
export const SOURCE_METRIC_DIMENSIONS = ['Source', 'FunctionName'] as const;

/** Writes a batch's log line and metrics. Holds no per-invocation state. */
export class Telemetry {
  readonly logger: Logger;
  readonly #service: string;
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
    // Metrics objects buffer what they are given, so each batch gets its own: two overlapping
    // invocations in one process must never publish each other's numbers.
    const source = this.#metrics({ Source: report.source, FunctionName: this.#functionName });
    source.addMetric(METRICS.batchRecords, MetricUnit.Count, report.records);
    source.addMetric(METRICS.deadLetters, MetricUnit.Count, report.deadLetters);
    source.publishStoredMetrics();
    for (const [job, outcome] of Object.entries(report.jobs)) {
      const metrics = this.#metrics({ Source: report.source, Job: job });
      metrics.addMetric(METRICS.jobRecords, MetricUnit.Count, outcome.records);
      metrics.addMetric(METRICS.jobFailedRecords, MetricUnit.Count, outcome.failed);
      metrics.addMetric(METRICS.jobDuration, MetricUnit.Milliseconds, outcome.durationMs);
      metrics.publishStoredMetrics();
    }
  }

  #metrics(dimensions: Record<string, string>): Metrics {
    const metrics = new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
      serviceName: this.#service,
    });
    metrics.addDimensions(dimensions);
    return metrics;
  }
}
