import { type Duration, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ResolvedSourceProps } from './defaults';
import { createFailureStore, type FailureStore, onFailureDestination } from './failure-store';
import { BUNDLE_METADATA_KEY, bundleKplModuleCommand, bundleRecipe } from './function-bundle';
import type { FailureDestinationKind } from './micro-batch-pipeline-props';
import { createFunctionAlarms, type FunctionAlarms } from './pipeline-monitoring';

/** What one function reads: the stream itself (shared throughput) or its own EFO consumer. */
export type StreamFunctionInput =
  | { readonly stream: kinesis.IStream }
  | { readonly consumer: kinesis.IStreamConsumer };

/** Props of {@link StreamFunction}. */
export interface StreamFunctionProps {
  readonly description: string;
  readonly source: ResolvedSourceProps;
  readonly input: StreamFunctionInput;
  /** The complete environment, pipeline variables included. */
  readonly environment: Readonly<Record<string, string>>;
  readonly onFailureKind: FailureDestinationKind;
  readonly logRetention: logs.RetentionDays;
  readonly application: codedeploy.ILambdaApplication;
  readonly deploymentConfig: codedeploy.ILambdaDeploymentConfig;
  readonly iteratorAgeAlarmThreshold: Duration;
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
  /** How long the on-failure destination keeps what it receives. */
  readonly failureRetention: Duration;
  /** Where an on-failure bucket's server access logs go. */
  readonly accessLogs: s3.IBucket;
  /** Active X-Ray tracing; the environment must then set `DRIVERLESS_TRACING`. */
  readonly tracing: boolean;
}

/**
 * The alias every mapping and deployment targets, from the first deploy on: shifting the alias
 * re-points its mapping without touching it (docs/event-source-mapping.md#versions-and-aliases).
 */
export const LIVE_ALIAS = 'live';

/**
 * One Lambda function reading one Kinesis input: its own role and log group, a published version
 * behind the `live` alias, a mapping on that alias with its own on-failure destination, alarms,
 * and a CodeDeploy deployment group that shifts the alias and rolls back when the new version throws.
 */
export class StreamFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly alias: lambda.Alias;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly onFailure: FailureStore;
  readonly eventSourceMappingId: string;
  readonly alarms: FunctionAlarms;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;

  constructor(scope: Construct, id: string, props: StreamFunctionProps) {
    super(scope, id);
    const { source } = props;
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    this.logGroup.grantWrite(this.role);

    // The app runs in the project directory (where cdk.json is): the entry is recorded relative to it.
    const recipe = bundleRecipe(source.entry, props.tracing, process.cwd());
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: source.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      memorySize: source.memorySize,
      timeout: source.timeout,
      reservedConcurrentExecutions: source.reservedConcurrentExecutions,
      tracing: props.tracing ? lambda.Tracing.ACTIVE : undefined,
      environment: { ...props.environment },
      bundling: {
        // From the recipe recorded below, so that a rebuild from it makes the same bundle.
        minify: recipe.minify,
        sourceMap: recipe.sourcemap,
        target: recipe.target,
        forceDockerBundling: false,
        externalModules: [...recipe.externals],
        // esbuild's per-file size report would print for every function at every synth and test.
        logLevel: nodejs.LogLevel.WARNING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir, outputDir) => [bundleKplModuleCommand(outputDir)],
        },
      },
    });
    // `driverless dev` rebuilds a changed handler from this without re-running the synth.
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(
      BUNDLE_METADATA_KEY,
      recipe,
    );
    if (props.tracing) {
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which have no resource to scope to.',
      });
    }
    this.alias = new lambda.Alias(this, 'LiveAlias', {
      aliasName: LIVE_ALIAS,
      version: this.function.currentVersion,
    });

    this.onFailure = createFailureStore(this, 'OnFailure', props.onFailureKind, {
      reason: 'metadata of records the mapping gave up on',
      retention: props.failureRetention,
      accessLogs: props.accessLogs,
    });
    const mappingProps: eventSources.KinesisEventSourceProps = {
      batchSize: source.batchSize,
      maxBatchingWindow: source.maxBatchingWindow,
      parallelizationFactor: source.parallelizationFactor,
      startingPosition: source.startingPosition,
      startingPositionTimestamp: source.startingPositionTimestamp,
      retryAttempts: source.retryAttempts,
      maxRecordAge: source.maxRecordAge,
      bisectBatchOnError: source.bisectBatchOnError,
      // The runtime reports failed records by sequence number
      // (docs/event-source-mapping.md#partial-batch-response).
      reportBatchItemFailures: true,
      filters: source.filters ? [...source.filters] : undefined,
      tumblingWindow: source.tumblingWindow,
      metricsConfig: source.metricsEventCount
        ? { metrics: [lambda.MetricType.EVENT_COUNT] }
        : undefined,
      onFailure: onFailureDestination(this.onFailure),
    };
    const eventSource =
      'consumer' in props.input
        ? new eventSources.KinesisConsumerEventSource(props.input.consumer, mappingProps)
        : new eventSources.KinesisEventSource(props.input.stream, mappingProps);
    // On the alias, never the function: moving a mapping later replaces it and resets its position.
    this.alias.addEventSource(eventSource);
    this.eventSourceMappingId = eventSource.eventSourceMappingId;

    this.alarms = createFunctionAlarms(this, {
      function: this.function,
      version: this.function.currentVersion,
      alias: this.alias,
      eventSourceMappingId: this.eventSourceMappingId,
      metricsEventCount: source.metricsEventCount,
      onFailure: this.onFailure,
      iteratorAgeThreshold: props.iteratorAgeAlarmThreshold,
      actions: props.alarmActions,
    });
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'Deployment', {
      application: props.application,
      alias: this.alias,
      deploymentConfig: props.deploymentConfig,
      // Only what the new version does rolls it back: a lag or an old version's errors that
      // predate the deploy would otherwise roll back a good release, the fix for that lag included.
      alarms: [this.alarms.newVersionErrors],
      autoRollback: { failedDeployment: true, deploymentInAlarm: true },
    });
    Validations.of(this.deploymentGroup).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason:
        'AWS maintains this policy as the least privilege CodeDeploy needs to shift Lambda aliases and run hooks.',
    });
  }
}
