import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { METRIC_NAMES, METRICS_NAMESPACE, SOURCE_METRIC_DIMENSIONS } from './environment-names';
import type { FailureStore } from './failure-store';

const PERIOD = Duration.minutes(1);

/**
 * The alarms of one function. Only `newVersionErrors` gates deployments; the others are for
 * people: a lag or an old version's errors that existed before a deploy must not roll back the
 * release that fixes them.
 */
export interface FunctionAlarms {
  readonly iteratorAge: cloudwatch.Alarm;
  /** Errors of the `live` alias, whichever version ran. */
  readonly errors: cloudwatch.Alarm;
  /** Errors of the version being deployed, while the alias routes traffic to it. */
  readonly newVersionErrors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
  /**
   * The mapping gave up on records: messages in the on-failure queue, or (with mapping metrics)
   * records written to the on-failure bucket. Absent for a bucket without mapping metrics.
   */
  readonly onFailure?: cloudwatch.Alarm;
  /** The mapping dropped records without reaching its destination; needs mapping metrics. */
  readonly droppedRecords?: cloudwatch.Alarm;
}

/** The alarms of one source of a pipeline. */
export interface SourceAlarms {
  /** Records of the source could not be decoded and became dead letters. */
  readonly deadLetters: cloudwatch.Alarm;
  /** The main function's alarms. */
  readonly main: FunctionAlarms;
  /** Each isolated job's function's alarms, by job. */
  readonly jobs: Readonly<Record<string, FunctionAlarms>>;
}

/** What {@link createFunctionAlarms} watches. */
export interface FunctionAlarmsProps {
  readonly function: lambda.IFunction;
  /** The version the `live` alias is shifted to by this deployment. */
  readonly version: lambda.IVersion;
  readonly alias: lambda.IAlias;
  /** The mapping's UUID, the `EventSourceMappingUUID` dimension of its `EventCount` metrics. */
  readonly eventSourceMappingId: string;
  readonly metricsEventCount: boolean;
  readonly onFailure: FailureStore;
  readonly iteratorAgeThreshold: Duration;
  /** Notified when any of the alarms goes to ALARM and back to OK. */
  readonly actions: readonly cloudwatch.IAlarmAction[];
}

/**
 * Alarms on one function, scoped to its `live` alias (dimensions `FunctionName` and
 * `Resource` = `<function>:live`), so they see exactly the traffic CodeDeploy shifts.
 *
 * No alarm may refer to the alias itself (its `Ref`, e.g. through `alias.functionName`): the
 * alias's CodeDeploy update policy refers to the deployment group, which refers to its alarms, and
 * CloudFormation refuses that cycle (aws-cdk#2231). `alias.metric()` builds its dimensions from
 * the function's name and the alias name for the same reason; descriptions name the function.
 */
export function createFunctionAlarms(scope: Construct, props: FunctionAlarmsProps): FunctionAlarms {
  const { alias } = props;
  const live = `${props.function.functionName}:${alias.aliasName}`;
  // No IteratorAge datapoints exist while a stream is idle, which is healthy.
  const iteratorAge = alias
    .metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: PERIOD })
    .createAlarm(scope, 'IteratorAgeAlarm', {
      alarmDescription: `Records wait longer than ${props.iteratorAgeThreshold.toHumanString()} before ${live} gets them: the consumer falls behind.`,
      threshold: props.iteratorAgeThreshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  // Record failures come back as batchItemFailures, not errors; an error is an infrastructure failure.
  const errors = alias
    .metricErrors({ statistic: cloudwatch.Stats.SUM, period: PERIOD })
    .createAlarm(scope, 'ErrorsAlarm', {
      alarmDescription: `${live} threw: a whole batch failed and is retried.`,
      ...atLeastOnce,
    });
  // Lambda publishes Errors of an alias per version it ran (dimension ExecutedVersion). The version
  // is the new one as soon as the stack update starts, before the alias is shifted, so during a
  // deployment this alarm sees only what the new version does.
  // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html#monitoring-metrics-dimensions
  const newVersionErrors = new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName: 'Errors',
    dimensionsMap: {
      FunctionName: props.function.functionName,
      Resource: live,
      ExecutedVersion: props.version.version,
    },
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
  }).createAlarm(scope, 'NewVersionErrorsAlarm', {
    alarmDescription: `The version of ${live} being deployed threw: CodeDeploy rolls the alias back to the previous version.`,
    ...atLeastOnce,
  });
  const throttles = alias
    .metricThrottles({ statistic: cloudwatch.Stats.SUM, period: PERIOD })
    .createAlarm(scope, 'ThrottlesAlarm', {
      alarmDescription: `Invocations of ${live} were throttled: reserved or account concurrency is exhausted.`,
      ...atLeastOnce,
    });
  let onFailure: cloudwatch.Alarm | undefined;
  if (props.onFailure.kind === 'queue') {
    onFailure = queueDepth(props.onFailure.queue).createAlarm(scope, 'OnFailureQueueAlarm', {
      alarmDescription:
        'The mapping gave up on records; their metadata waits in the on-failure queue.',
      ...atLeastOnce,
    });
  } else if (props.metricsEventCount) {
    onFailure = mappingMetric(
      props.eventSourceMappingId,
      'OnFailureDestinationDeliveredEventCount',
    ).createAlarm(scope, 'OnFailureDeliveredAlarm', {
      alarmDescription: 'The mapping gave up on records and wrote them to the on-failure bucket.',
      ...atLeastOnce,
    });
  }
  // Dropped records reached no destination at all.
  const droppedRecords = props.metricsEventCount
    ? mappingMetric(props.eventSourceMappingId, 'DroppedEventCount').createAlarm(
        scope,
        'DroppedRecordsAlarm',
        {
          alarmDescription:
            'The mapping dropped records without delivering them to the on-failure destination.',
          ...atLeastOnce,
        },
      )
    : undefined;
  const alarms: FunctionAlarms = {
    iteratorAge,
    errors,
    newVersionErrors,
    throttles,
    ...(onFailure ? { onFailure } : {}),
    ...(droppedRecords ? { droppedRecords } : {}),
  };
  for (const alarm of Object.values(alarms)) notify(alarm, props.actions);
  return alarms;
}

/**
 * Sends `actions` both ways: people learn that something broke and that it recovered, without
 * watching the console.
 */
function notify(alarm: cloudwatch.Alarm, actions: readonly cloudwatch.IAlarmAction[]): void {
  if (actions.length === 0) return;
  alarm.addAlarmAction(...actions);
  alarm.addOkAction(...actions);
}

/** What {@link createDeadLetterAlarm} watches. */
export interface DeadLetterAlarmProps {
  readonly store: FailureStore;
  readonly pipelineName: string;
  readonly sourceName: string;
  /** Names of the source's functions, each of which dead-letters on its own. */
  readonly functionNames: readonly string[];
  readonly actions: readonly cloudwatch.IAlarmAction[];
}

/**
 * Alarm on the runtime's dead letters: queue depth, or for a bucket the `DeadLetters` metric of
 * the source's functions, summed (any letter of any function alarms).
 */
export function createDeadLetterAlarm(
  scope: Construct,
  props: DeadLetterAlarmProps,
): cloudwatch.Alarm {
  const { store, pipelineName, sourceName, functionNames } = props;
  const letters = functionNames.map((fn) =>
    sourceMetric(pipelineName, sourceName, fn, METRIC_NAMES.deadLetters, cloudwatch.Stats.SUM),
  );
  const metric: cloudwatch.Metric | cloudwatch.MathExpression =
    store.kind === 'queue'
      ? queueDepth(store.queue)
      : letters.length === 1
        ? letters[0]!
        : new cloudwatch.MathExpression({
            // SUM of the series skips a function without datapoints, where `+` would yield none.
            expression: `SUM([${letters.map((_, i) => `m${i}`).join(', ')}])`,
            usingMetrics: Object.fromEntries(letters.map((m, i) => [`m${i}`, m])),
            label: 'dead letters of every function',
            period: PERIOD,
          });
  const alarm = metric.createAlarm(scope, 'DeadLettersAlarm', {
    alarmDescription: `Records of source ${sourceName} could not be decoded and became dead letters.`,
    ...atLeastOnce,
  });
  notify(alarm, props.actions);
  return alarm;
}

const atLeastOnce = {
  threshold: 1,
  comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
  evaluationPeriods: 1,
  treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
} as const;

function queueDepth(queue: {
  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    statistic: cloudwatch.Stats.MAXIMUM,
    period: PERIOD,
  });
}

/** An event source mapping `EventCount` metric (published when `metricsEventCount` is on). */
function mappingMetric(eventSourceMappingId: string, metricName: string): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'AWS/Lambda',
    metricName,
    dimensionsMap: { EventSourceMappingUUID: eventSourceMappingId },
    statistic: cloudwatch.Stats.SUM,
    period: PERIOD,
  });
}

/** A per-source figure as one function of the source reports it. */
function sourceMetric(
  pipelineName: string,
  sourceName: string,
  functionName: string,
  metricName: string,
  statistic: string,
): cloudwatch.Metric {
  const [source, fn] = SOURCE_METRIC_DIMENSIONS;
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: pipelineName, [source]: sourceName, [fn]: functionName },
    statistic,
    period: PERIOD,
  });
}

function jobMetric(
  pipelineName: string,
  sourceName: string,
  job: string,
  metricName: string,
  statistic: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: pipelineName, Source: sourceName, Job: job },
    statistic,
    period: PERIOD,
    label: `${job} ${metricName} ${statistic}`,
  });
}

/** One function of a source, as the dashboard shows it. */
export interface DashboardFunction {
  readonly label: string;
  /** The function's name, the `FunctionName` dimension of the runtime's per-source figures. */
  readonly functionName: string;
  readonly alias: lambda.IAlias;
  readonly eventSourceMappingId: string;
}

/** One source, as the dashboard shows it. */
export interface DashboardSource {
  readonly name: string;
  readonly functions: readonly DashboardFunction[];
  readonly jobs: readonly string[];
  readonly metricsEventCount: boolean;
}

/** Props of {@link PipelineDashboard}. */
export interface PipelineDashboardProps {
  readonly pipelineName: string;
  readonly sources: readonly DashboardSource[];
  /** US dollars per GB-second and per million requests. */
  readonly pricing: { readonly perGbSecond: number; readonly perMillionRequests: number };
}

/**
 * One CloudWatch dashboard per pipeline: per source, the functions' lag, invocations and the
 * runtime's batch metrics; per job, the runtime's job metrics (namespace `Driverless`).
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      defaultInterval: Duration.hours(3),
    });
    const { pipelineName } = props;
    for (const source of props.sources) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({
          markdown: `## ${pipelineName} / ${source.name}`,
          width: 24,
          height: 1,
        }),
      );
      const row: cloudwatch.IWidget[] = [
        graph(
          'Iterator age (max)',
          source.functions.map((f) =>
            f.alias.metric('IteratorAge', {
              statistic: cloudwatch.Stats.MAXIMUM,
              period: PERIOD,
              label: f.label,
            }),
          ),
        ),
        graph(
          'Errors and throttles',
          source.functions.flatMap((f) => [
            f.alias.metricErrors({ period: PERIOD, label: `${f.label} errors` }),
            f.alias.metricThrottles({ period: PERIOD, label: `${f.label} throttles` }),
          ]),
        ),
        recordsGraph(pipelineName, source),
        costGraph(pipelineName, source, props.pricing),
      ];
      if (source.metricsEventCount) {
        row.push(
          graph(
            'Mapping events',
            source.functions.flatMap((f) =>
              [
                'PolledEventCount',
                'FailedInvokeEventCount',
                'DroppedEventCount',
                'OnFailureDestinationDeliveredEventCount',
              ].map((name) =>
                mappingMetric(f.eventSourceMappingId, name).with({ label: `${f.label} ${name}` }),
              ),
            ),
          ),
        );
      }
      this.dashboard.addWidgets(...row);
      const jobWidgets = source.jobs.flatMap((job) => [
        graph(`Job ${job}: records`, [
          jobMetric(pipelineName, source.name, job, METRIC_NAMES.jobRecords, cloudwatch.Stats.SUM),
          jobMetric(
            pipelineName,
            source.name,
            job,
            METRIC_NAMES.jobFailedRecords,
            cloudwatch.Stats.SUM,
          ),
        ]),
        graph(`Job ${job}: duration`, [
          jobMetric(
            pipelineName,
            source.name,
            job,
            METRIC_NAMES.jobDuration,
            cloudwatch.Stats.AVERAGE,
          ),
          jobMetric(
            pipelineName,
            source.name,
            job,
            METRIC_NAMES.jobDuration,
            cloudwatch.Stats.p(99),
          ),
        ]),
      ]);
      if (jobWidgets.length > 0) this.dashboard.addWidgets(...jobWidgets);
    }
  }
}

/**
 * The runtime's per-source figures, one line per function: every function of a source reads every
 * record and dead-letters the ones it cannot decode, so each line is what that function did (the
 * main function's records are the source's). Per-job figures (`Job` dimension) are counted once.
 */
function recordsGraph(pipelineName: string, source: DashboardSource): cloudwatch.GraphWidget {
  const several = source.functions.length > 1;
  const metric = (f: DashboardFunction, name: string, what: string) =>
    sourceMetric(pipelineName, source.name, f.functionName, name, cloudwatch.Stats.SUM).with({
      label: several ? `${f.label} ${what}` : what,
    });
  return graph(
    several ? 'Records handled and dead letters, per function' : 'Records handled and dead letters',
    source.functions.flatMap((f) => [
      metric(f, METRIC_NAMES.batchRecords, 'records handled'),
      metric(f, METRIC_NAMES.deadLetters, 'dead letters'),
    ]),
  );
}

/**
 * What 1,000 records cost, in US dollars: per function of the source, its GB-seconds and requests
 * (one per batch) over the records it handled; per job, its share of the GB-seconds over its
 * records. A job's share comes from its measured time; the shared work (decode, dead letters,
 * cursors) is spread over the jobs and stages in the same proportions.
 */
function costGraph(
  pipelineName: string,
  source: DashboardSource,
  pricing: PipelineDashboardProps['pricing'],
): cloudwatch.GraphWidget {
  const several = source.functions.length > 1;
  // Metric ids must be unique within one graph.
  const functions = source.functions.map((f, i) => {
    const metric = (name: string, statistic: string) =>
      sourceMetric(pipelineName, source.name, f.functionName, name, statistic);
    return new cloudwatch.MathExpression({
      expression: `1000 * (gbs${i} * ${pricing.perGbSecond} + batches${i} * ${pricing.perMillionRequests} / 1000000) / records${i}`,
      usingMetrics: {
        [`gbs${i}`]: metric(METRIC_NAMES.batchGbSeconds, cloudwatch.Stats.SUM),
        [`batches${i}`]: metric(METRIC_NAMES.batchGbSeconds, cloudwatch.Stats.SAMPLE_COUNT),
        [`records${i}`]: metric(METRIC_NAMES.batchRecords, cloudwatch.Stats.SUM),
      },
      label: several ? `${f.label} (all jobs)` : `source ${source.name} (all jobs)`,
      period: PERIOD,
    });
  });
  const jobs = source.jobs.map(
    (job, i) =>
      new cloudwatch.MathExpression({
        expression: `1000 * jobGbs${i} * ${pricing.perGbSecond} / jobRecords${i}`,
        usingMetrics: {
          [`jobGbs${i}`]: jobMetric(
            pipelineName,
            source.name,
            job,
            METRIC_NAMES.jobGbSeconds,
            cloudwatch.Stats.SUM,
          ),
          [`jobRecords${i}`]: jobMetric(
            pipelineName,
            source.name,
            job,
            METRIC_NAMES.jobRecords,
            cloudwatch.Stats.SUM,
          ),
        },
        label: `job ${job}`,
        period: PERIOD,
      }),
  );
  return graph('Cost per 1,000 records (USD)', [...functions, ...jobs]);
}

function graph(title: string, left: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left, width: 6, height: 6 });
}
