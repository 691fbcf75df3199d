import { Annotations, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { archiveProblems, PipelineArchive } from './archive';
import { concurrencyUsage, describeConcurrency, isNewStream } from './concurrency-budget';
import {
  type ResolvedPipelineProps,
  type ResolvedSourceProps,
  streamWithDefaults,
  withDefaults,
} from './defaults';
import {
  ENVIRONMENT_NAMES,
  METRICS_NAMESPACE,
  POWERTOOLS_ENVIRONMENT_NAMES,
  S3_KEY_PREFIXES,
} from './environment-names';
import {
  createAccessLogBucket,
  createFailureBucket,
  createFailureStore,
  type FailureStore,
  grantPutObjects,
  grantWriteDeadLetters,
} from './failure-store';
import type { MicroBatchPipelineProps } from './micro-batch-pipeline-props';
import { consumerName } from './physical-names';
import {
  createDeadLetterAlarm,
  type DashboardSource,
  type FunctionAlarms,
  PipelineDashboard,
  type SourceAlarms,
} from './pipeline-monitoring';
import { addReferenceCycleCheck } from './reference-cycles';
import { createStateTable, grantStateAccess } from './state-table';
import { StateTicks } from './state-ticks';
import { StreamFunction } from './stream-function';
import { checkRedriveWindow } from './stream-retention';
import { PipelinePropsError, validatePipelineProps } from './validate-pipeline-props';

/** A job isolated in a function of its own, reading through its own enhanced fan-out consumer. */
export interface IsolatedJob {
  readonly function: nodejs.NodejsFunction;
  readonly alias: lambda.Alias;
  readonly consumer: kinesis.StreamConsumer;
  readonly alarms: FunctionAlarms;
}

/** The resources of one source, e.g. to grant its functions access to a table. */
export interface PipelineSource {
  readonly name: string;
  readonly stream: kinesis.IStream;
  /** The main function: every job that is not isolated. */
  readonly function: nodejs.NodejsFunction;
  readonly alias: lambda.Alias;
  /** Isolated jobs by name. */
  readonly jobFunctions: Readonly<Record<string, IsolatedJob>>;
  /** Every function of the source: the main one, then the isolated jobs. */
  readonly functions: readonly nodejs.NodejsFunction[];
  /** The runtime's dead letters, when `deadLetterDestination` is 'queue'. */
  readonly deadLetterQueue?: sqs.IQueue;
  /**
   * Payloads of dead letters too large for one SQS message, when `deadLetterDestination` is
   * 'queue': the letter in the queue names its object (`dataLocation`).
   */
  readonly deadLetterPayloadBucket?: s3.IBucket;
  /** The runtime's dead letters, when `deadLetterDestination` is 'bucket'. */
  readonly deadLetterBucket?: s3.IBucket;
  /** The main mapping's on-failure destination, when `onFailureDestination` is 'queue'. */
  readonly onFailureQueue?: sqs.IQueue;
  /** The main mapping's on-failure destination, when `onFailureDestination` is 'bucket'. */
  readonly onFailureBucket?: s3.IBucket;
  /** Every alarm of the source, each already notifying the pipeline's `alarmActions`. */
  readonly alarms: SourceAlarms;
}

/**
 * A micro-batch stream pipeline: one independently scaled function per source (plus one per
 * isolated job), each behind a `live` alias shifted by CodeDeploy, with bounded retries,
 * on-failure destinations, dead letters, alarms and one dashboard.
 *
 * @example
 * const pipeline = new MicroBatchPipeline(stack, 'Retail', {
 *   sources: {
 *     productViews: { stream: { shardCount: 2 }, entry: 'functions/product-views.ts', isolateJobs: ['popularity'] },
 *     orders: { stream: ordersStream, entry: 'functions/orders.ts' },
 *   },
 * });
 * pipeline.functions.forEach((fn) => table.grantReadWriteData(fn));
 */
export class MicroBatchPipeline extends Construct {
  readonly pipelineName: string;
  /** Every function of every source. */
  readonly functions: readonly nodejs.NodejsFunction[];
  /** Per-job cursors, when `checkpoints` is on. */
  readonly checkpointTable?: dynamodb.Table;
  /** Keyed state of the stateful jobs, when `state` is on for the pipeline or a source. */
  readonly stateTable?: dynamodb.Table;
  /**
   * Server access logs of every failure bucket of the pipeline (dead letters, their payloads,
   * on-failure records), each under its bucket's construct path; kept a year.
   */
  readonly accessLogsBucket: s3.IBucket;
  readonly dashboard: PipelineDashboard;
  /** The archive of every source's records, when `archive` is on. */
  readonly archive?: PipelineArchive;
  private readonly sources: ReadonlyMap<string, PipelineSource>;
  /** Why nothing was built, when the props are invalid. */
  private readonly invalid?: PipelinePropsError;

  /**
   * Invalid props do not throw here: they fail `cdk synth` (and `app.synth()`) with one
   * validation error listing every problem, printed by the CDK without a stack trace. Nothing is
   * built from them, so the pipeline then has no functions and {@link source} throws.
   */
  constructor(scope: Construct, id: string, props: MicroBatchPipelineProps) {
    super(scope, id);
    // S3 delivers the failure buckets' access logs by the log bucket's policy, as AWS recommends,
    // not by an ACL (which would need ACLs enabled on it): the CDK does so under this flag, set
    // here for the pipeline's constructs only.
    this.node.setContext(cxapi.S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);
    const resolved = withDefaults(props, id);
    this.pipelineName = resolved.pipelineName;
    const problems = this.checkBudgetAndProps(resolved);
    // Every pipeline has a failure bucket: dead letters, or the payloads that overflow their queue.
    const accessLogs = createAccessLogBucket(this, 'AccessLogs');
    this.accessLogsBucket = accessLogs;
    if (problems.length > 0) {
      // The AWS constructs would throw on some of these values (batch size, record age) before
      // the list is printed, so nothing is built from them.
      this.node.addValidation({ validate: () => [...problems] });
      this.invalid = new PipelinePropsError(id, problems);
      this.sources = new Map();
      this.functions = [];
      this.dashboard = new PipelineDashboard(this, 'Dashboard', {
        pipelineName: this.pipelineName,
        sources: [],
        pricing: resolved.pricing,
      });
      return;
    }
    // CloudFormation refuses a template whose resources refer to each other in a cycle, and only
    // at deploy time: fail the synth instead, naming the resources on the cycle.
    addReferenceCycleCheck(Stack.of(this));

    if (resolved.checkpoints) {
      this.checkpointTable = new dynamodb.Table(this, 'Checkpoints', {
        partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
      });
    }
    if (Object.values(resolved.sources).some((source) => source.state)) {
      this.stateTable = createStateTable(this, 'State');
    }
    const application = new codedeploy.LambdaApplication(this, 'Application');
    if (props.archive) {
      this.archive = new PipelineArchive(this, 'Archive', {
        ...(props.archive === true ? {} : props.archive),
        accessLogs,
      });
    }

    const sources = new Map<string, PipelineSource>();
    const dashboardSources: DashboardSource[] = [];
    for (const [name, source] of Object.entries(resolved.sources)) {
      const built = this.buildSource(name, source, resolved, application, accessLogs);
      sources.set(name, built.source);
      dashboardSources.push(built.dashboard);
    }
    this.sources = sources;
    this.functions = [...sources.values()].flatMap((s) => s.functions);
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      pipelineName: this.pipelineName,
      sources: dashboardSources,
      pricing: resolved.pricing,
    });
  }

  /** Names of the sources, in declaration order. */
  get sourceNames(): string[] {
    return [...this.sources.keys()];
  }

  /**
   * The resources of one source; throws for a name not in `sources`, and a
   * {@link PipelinePropsError} when the props are invalid (nothing was built).
   */
  source(name: string): PipelineSource {
    if (this.invalid) throw this.invalid;
    const source = this.sources.get(name);
    if (!source) {
      throw new Error(
        `MicroBatchPipeline '${this.node.id}' has no source '${name}' (sources: ${this.sourceNames.join(', ')})`,
      );
    }
    return source;
  }

  /** Every problem of the props, the concurrency budget included; warnings are annotated. */
  private checkBudgetAndProps(resolved: ResolvedPipelineProps): string[] {
    const problems = validatePipelineProps(resolved);
    if (typeof resolved.archive === 'object') problems.push(...archiveProblems(resolved.archive));
    const usage = concurrencyUsage(resolved.sources);
    for (const s of usage.sources) {
      if (s.shards === undefined) {
        Annotations.of(this).addWarningV2(
          'driverless:unknownShardCount',
          `sources.${s.source}: the stream's shard count is unknown, counted as 1 by the concurrency guardrail; set sources.${s.source}.shardCount`,
        );
      }
    }
    if (resolved.onFailureDestination === 'queue') {
      for (const [name, source] of Object.entries(resolved.sources)) {
        const finding = checkRedriveWindow(name, source, resolved.redriveWindow);
        if (finding?.severity === 'problem') problems.push(finding.message);
        else if (finding) {
          Annotations.of(this).addWarningV2('driverless:redriveWindow', finding.message);
        }
      }
    }
    if (usage.total > resolved.concurrencyBudget) {
      const detail = usage.sources
        .map((s) => describeConcurrency(s, resolved.sources[s.source]!.parallelizationFactor))
        .join('; ');
      const message = `concurrencyBudget must be at least ${usage.total}, the pipeline's maximum concurrency (given ${resolved.concurrencyBudget}): ${detail}`;
      if (resolved.concurrencyBudgetMode === 'fail') problems.push(message);
      else Annotations.of(this).addWarningV2('driverless:concurrencyBudget', message);
    }
    return problems;
  }

  private buildSource(
    name: string,
    source: ResolvedSourceProps,
    pipeline: ResolvedPipelineProps,
    application: codedeploy.ILambdaApplication,
    accessLogs: s3.IBucket,
  ): { source: PipelineSource; dashboard: DashboardSource } {
    const scope = new Construct(this, pascalCase(name));
    const stream = this.streamOf(scope, name, source);
    const deadLetters = createFailureStore(scope, 'DeadLetters', pipeline.deadLetterDestination, {
      reason: 'records the runtime could not decode',
      retention: pipeline.failureRetention,
      accessLogs,
    });
    // A Kinesis record can be larger than an SQS message: the runtime puts the payload of such a
    // letter in this bucket and the letter in the queue, so an oversized poison record is
    // dead-lettered like any other and its shard moves on.
    const deadLetterPayloads =
      deadLetters.kind === 'queue'
        ? createFailureBucket(scope, 'DeadLetterPayloads', {
            reason: 'payloads of dead letters too large for one SQS message',
            retention: pipeline.failureRetention,
            accessLogs,
          })
        : undefined;

    const stateTable = source.state ? this.stateTable : undefined;
    const environment = (jobs: string | undefined): Record<string, string> => ({
      ...pipeline.environment,
      ...source.environment,
      [ENVIRONMENT_NAMES.pipeline]: this.pipelineName,
      [ENVIRONMENT_NAMES.source]: name,
      ...(jobs === undefined ? {} : { [ENVIRONMENT_NAMES.jobs]: jobs }),
      ...(deadLetters.kind === 'queue'
        ? { [ENVIRONMENT_NAMES.deadLetterQueueUrl]: deadLetters.queue.queueUrl }
        : { [ENVIRONMENT_NAMES.deadLetterBucket]: deadLetters.bucket.bucketName }),
      // With a queue, the runtime takes the bucket as the queue's overflow.
      ...(deadLetterPayloads
        ? { [ENVIRONMENT_NAMES.deadLetterBucket]: deadLetterPayloads.bucketName }
        : {}),
      ...(this.checkpointTable
        ? { [ENVIRONMENT_NAMES.checkpointTable]: this.checkpointTable.tableName }
        : {}),
      ...(pipeline.tracing ? { [ENVIRONMENT_NAMES.tracing]: 'true' } : {}),
      ...(stateTable ? { [ENVIRONMENT_NAMES.stateTable]: stateTable.tableName } : {}),
      // What the budget leaves beside every mapping: `driverless backfill` checks --concurrency against it.
      [ENVIRONMENT_NAMES.backfillConcurrency]: String(
        Math.max(0, pipeline.concurrencyBudget - concurrencyUsage(pipeline.sources).total),
      ),
      [POWERTOOLS_ENVIRONMENT_NAMES.serviceName]: this.pipelineName,
      [POWERTOOLS_ENVIRONMENT_NAMES.metricsNamespace]: METRICS_NAMESPACE,
      NODE_OPTIONS: '--enable-source-maps',
    });
    const common = {
      source,
      onFailureKind: pipeline.onFailureDestination,
      logRetention: pipeline.logRetention,
      application,
      deploymentConfig: pipeline.deploymentConfig,
      iteratorAgeAlarmThreshold: pipeline.iteratorAgeAlarmThreshold,
      alarmActions: pipeline.alarmActions,
      failureRetention: pipeline.failureRetention,
      accessLogs,
      tracing: pipeline.tracing,
    };
    const wire = (fn: StreamFunction): StreamFunction => {
      grantWriteDeadLetters(deadLetters, fn.function);
      if (deadLetterPayloads) {
        grantPutObjects(deadLetterPayloads, S3_KEY_PREFIXES.deadLetters, fn.function);
      }
      // Exactly the calls of the runtime's cursors (functions/runtime/cursors.ts): one
      // BatchGetItem for a batch's cursors, one conditional UpdateItem per job that commits.
      this.checkpointTable?.grant(fn.function, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
      if (stateTable) {
        grantStateAccess(stateTable, fn.function);
        // Every function of the source, isolated jobs included: each runs its own stateful jobs.
        new StateTicks(fn, 'StateTicks', {
          alias: fn.alias,
          source: name,
          interval: pipeline.stateTickInterval,
        });
      }
      return fn;
    };

    // The construct cannot list an entry's jobs without running it, so the main function
    // excludes the isolated ones ("!a,!b") instead of naming the rest.
    const main = wire(
      new StreamFunction(scope, 'Main', {
        ...common,
        description: `${this.pipelineName}/${name}: ${source.isolateJobs.length ? 'jobs except isolated ones' : 'all jobs'}`,
        input: { stream },
        environment: environment(
          source.isolateJobs.length ? source.isolateJobs.map((j) => `!${j}`).join(',') : undefined,
        ),
      }),
    );
    const jobFunctions: Record<string, IsolatedJob> = {};
    const isolated: Array<{ job: string; fn: StreamFunction }> = [];
    for (const job of source.isolateJobs) {
      const consumer = new kinesis.StreamConsumer(scope, `Job${pascalCase(job)}Consumer`, {
        stream,
        streamConsumerName: consumerName(this.pipelineName, name, job),
      });
      const fn = wire(
        new StreamFunction(scope, `Job${pascalCase(job)}`, {
          ...common,
          description: `${this.pipelineName}/${name}: isolated job ${job}`,
          input: { consumer },
          environment: environment(job),
        }),
      );
      jobFunctions[job] = { function: fn.function, alias: fn.alias, consumer, alarms: fn.alarms };
      isolated.push({ job, fn });
    }

    const all = [main, ...isolated.map((i) => i.fn)];
    this.archive?.addSource(
      scope,
      name,
      stream,
      all.map((f) => f.function),
    );
    const deadLettersAlarm = createDeadLetterAlarm(scope, {
      store: deadLetters,
      pipelineName: this.pipelineName,
      sourceName: name,
      functionNames: all.map((f) => f.function.functionName),
      actions: pipeline.alarmActions,
    });
    return {
      source: {
        name,
        stream,
        function: main.function,
        alias: main.alias,
        jobFunctions,
        functions: all.map((f) => f.function),
        ...(deadLetters.kind === 'queue'
          ? { deadLetterQueue: deadLetters.queue }
          : { deadLetterBucket: deadLetters.bucket }),
        ...(deadLetterPayloads ? { deadLetterPayloadBucket: deadLetterPayloads } : {}),
        ...failureOutputs(main.onFailure),
        alarms: {
          deadLetters: deadLettersAlarm,
          main: main.alarms,
          jobs: Object.fromEntries(isolated.map((i) => [i.job, i.fn.alarms])),
        },
      },
      dashboard: {
        name,
        functions: [
          {
            label: 'main',
            functionName: main.function.functionName,
            alias: main.alias,
            eventSourceMappingId: main.eventSourceMappingId,
          },
          ...isolated.map((i) => ({
            label: i.job,
            functionName: i.fn.function.functionName,
            alias: i.fn.alias,
            eventSourceMappingId: i.fn.eventSourceMappingId,
          })),
        ],
        jobs: [...new Set([...source.jobs, ...source.isolateJobs])],
        metricsEventCount: source.metricsEventCount,
      },
    };
  }

  private streamOf(scope: Construct, name: string, source: ResolvedSourceProps): kinesis.IStream {
    if (!isNewStream(source.stream)) return source.stream;
    const props = streamWithDefaults(source.stream);
    const stream = new kinesis.Stream(scope, 'Stream', {
      streamName: props.streamName,
      shardCount: props.shardCount,
      streamMode: kinesis.StreamMode.PROVISIONED,
      retentionPeriod: props.retentionPeriod,
      removalPolicy: props.removalPolicy,
      // The AWS managed key (aws/kinesis) unless the user brings one: encrypted at rest, and
      // readers need no key grant. cdk-nag's AwsSolutions-KDS3 asks for exactly this key.
      ...(props.encryptionKey
        ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: props.encryptionKey }
        : { encryption: kinesis.StreamEncryption.MANAGED }),
    });
    if (props.encryptionKey) {
      Validations.of(stream).acknowledge({
        id: 'AwsSolutions::AwsSolutions-KDS3',
        reason: `sources.${name}.stream.encryptionKey asks for this customer managed key.`,
      });
    }
    // A retained stream keeps its name after the stack is gone: the next create of the same
    // name fails with "already exists" (after cdk destroy, a rolled-back first create, or in a
    // second stage in the same account and region).
    if (
      props.streamName !== undefined &&
      !Token.isUnresolved(props.streamName) &&
      props.removalPolicy !== RemovalPolicy.DESTROY
    ) {
      Annotations.of(stream).addWarningV2(
        'driverless:retainedNamedStream',
        `sources.${name}.stream: stream '${props.streamName}' has a fixed name and is retained when it leaves the stack, ` +
          'so the next deploy after cdk destroy or a rolled-back first create fails with "already exists", ' +
          'and a second stage in the same account and region collides with it. ' +
          `Remove sources.${name}.stream.streamName to get a generated name, or set removalPolicy: RemovalPolicy.DESTROY ` +
          'and put the stage in the name.',
      );
    }
    return stream;
  }
}

function failureOutputs(
  store: FailureStore,
): Pick<PipelineSource, 'onFailureQueue' | 'onFailureBucket'> {
  return store.kind === 'queue'
    ? { onFailureQueue: store.queue }
    : { onFailureBucket: store.bucket };
}

/** `productViews` → `ProductViews`, `page-views` → `PageViews`: readable construct IDs. */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}
