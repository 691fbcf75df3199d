import { readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { BUNDLE_METADATA_KEY, readBundleRecipe } from '../lib/function-bundle';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './clients';
import {
  createTemplateResolver,
  parseFunctionReference,
  type Template,
  TemplateError,
  type TemplateResolver,
  type TemplateResource,
} from './intrinsics';
import type {
  EventSourceMappingConfig,
  LocalApp,
  LocalBucket,
  LocalFunction,
  LocalQueue,
  LocalStream,
  LocalStreamConsumer,
  LocalTable,
  OnFailureDestination,
  StartingPosition,
} from './model';
import { readScheduleRule } from './schedule-rules';

/**
 * Reads a synthesized cloud assembly (`cdk.out`) into the {@link LocalApp} the embedded stack runs:
 * manifest.json → the stack artifact → its template and asset manifest.
 * @see https://docs.aws.amazon.com/cdk/v2/guide/apps.html#apps_cloud_assembly
 */

export interface ReadAssemblyOptions {
  /** The stack to run, by stack name or artifact id; required when the assembly has several. */
  stackName?: string;
  /** @default 'us-east-1' (what the emulators put in their ARNs) */
  region?: string;
  /** @default '000000000000' (what the emulators put in their ARNs) */
  accountId?: string;
  /**
   * Base URL of the SQS server, for queue URLs. Provisioning checks the URLs the server returns
   * and corrects the model if they differ. @default 'http://127.0.0.1:4566'
   */
  sqsEndpoint?: string;
  /** Template parameter values (over their defaults). */
  parameters?: Record<string, string>;
}

interface ManifestArtifact {
  type: string;
  displayName?: string;
  properties?: {
    templateFile?: string;
    stackName?: string;
    file?: string;
    directoryName?: string;
  };
}

interface Manifest {
  artifacts?: Record<string, ManifestArtifact>;
}

interface AssetManifest {
  files?: Record<
    string,
    { source?: { path?: string }; destinations?: Record<string, { objectKey?: string }> }
  >;
}

interface StackArtifact {
  id: string;
  stackName: string;
  directory: string;
  templateFile: string;
  /** S3 object key → asset directory, from the assembly's asset manifests. */
  assetsByObjectKey: Map<string, string>;
}

/**
 * Defaults AWS applies to a Kinesis event source mapping
 * (docs/event-source-mapping.md#mapping-parameters).
 */
export const ESM_DEFAULTS = {
  batchSize: 100,
  maximumBatchingWindowSeconds: 0,
  parallelizationFactor: 1,
  maximumRetryAttempts: -1,
  maximumRecordAgeSeconds: -1,
  tumblingWindowSeconds: 0,
  bisectBatchOnFunctionError: false,
  reportBatchItemFailures: false,
  metricsEventCount: false,
  enabled: true,
} as const;

/** Defaults AWS applies to a function (AWS::Lambda::Function). */
export const FUNCTION_DEFAULTS = { timeoutSeconds: 3, memoryMb: 128 } as const;

const SUPPORTED = new Set([
  'AWS::Kinesis::Stream',
  'AWS::Kinesis::StreamConsumer',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::SQS::Queue',
  'AWS::S3::Bucket',
  'AWS::Lambda::Function',
  'AWS::Lambda::Alias',
  'AWS::Lambda::Version',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Events::Rule',
]);

function readJson<T>(file: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new TemplateError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function findStacks(directory: string): StackArtifact[] {
  const manifest = readJson<Manifest>(join(directory, 'manifest.json'));
  const artifacts = Object.entries(manifest.artifacts ?? {});
  const assetsByObjectKey = new Map<string, string>();
  for (const [, artifact] of artifacts) {
    if (artifact.type !== 'cdk:asset-manifest' || !artifact.properties?.file) continue;
    const assets = readJson<AssetManifest>(join(directory, artifact.properties.file));
    for (const file of Object.values(assets.files ?? {})) {
      if (!file.source?.path) continue;
      for (const destination of Object.values(file.destinations ?? {})) {
        if (destination.objectKey) {
          assetsByObjectKey.set(destination.objectKey, resolvePath(directory, file.source.path));
        }
      }
    }
  }
  return artifacts.flatMap(([id, artifact]): StackArtifact[] => {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      return findStacks(join(directory, artifact.properties.directoryName));
    }
    if (artifact.type !== 'aws:cloudformation:stack' || !artifact.properties?.templateFile) {
      return [];
    }
    return [
      {
        id,
        stackName: artifact.properties.stackName ?? id,
        directory,
        templateFile: join(directory, artifact.properties.templateFile),
        assetsByObjectKey,
      },
    ];
  });
}

function selectStack(
  stacks: StackArtifact[],
  wanted: string | undefined,
  dir: string,
): StackArtifact {
  const names = stacks.map((s) => s.stackName).join(', ');
  if (wanted !== undefined) {
    const found = stacks.find((s) => s.stackName === wanted || s.id === wanted);
    if (!found)
      throw new TemplateError(`stack "${wanted}" is not in ${dir} (stacks: ${names || 'none'})`);
    return found;
  }
  if (stacks.length !== 1) {
    throw new TemplateError(
      `${dir} has ${stacks.length} stacks (${names || 'none'}); choose one with stackName`,
    );
  }
  return stacks[0] as StackArtifact;
}

/** The stack names of the cloud assembly in `directory` (nested assemblies included), in manifest order. */
export function assemblyStackNames(directory: string): string[] {
  return findStacks(resolvePath(directory)).map((stack) => stack.stackName);
}

/** Reads the cloud assembly in `directory` into a {@link LocalApp}. */
export function readAssembly(directory: string, options: ReadAssemblyOptions = {}): LocalApp {
  const dir = resolvePath(directory);
  const stack = selectStack(findStacks(dir), options.stackName, dir);
  const template = readJson<Template>(stack.templateFile);
  if (typeof template.Resources !== 'object' || template.Resources === null) {
    throw new TemplateError(`${stack.templateFile} has no Resources`);
  }
  return templateToLocalApp(template, stack, options);
}

/** Problems found while reading; all are reported together. */
class Problems {
  readonly list: string[] = [];
  add(message: string): void {
    this.list.push(message);
  }
  /** Runs `read`, recording a template error instead of throwing it. */
  guard<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      this.add(error.message);
      return undefined;
    }
  }
}

function templateToLocalApp(
  template: Template,
  stack: StackArtifact,
  options: ReadAssemblyOptions,
): LocalApp {
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const resolver = createTemplateResolver(template, {
    stackName: stack.stackName,
    region,
    accountId,
    sqsEndpoint: (options.sqsEndpoint ?? 'http://127.0.0.1:4566').replace(/\/+$/, ''),
    ...(options.parameters === undefined ? {} : { parameters: options.parameters }),
  });
  const app: LocalApp = {
    stackName: stack.stackName,
    region,
    accountId,
    streams: [],
    consumers: [],
    tables: [],
    queues: [],
    buckets: [],
    functions: [],
    mappings: [],
    schedules: [],
    skipped: [],
  };
  const problems = new Problems();
  const resources = Object.entries(template.Resources).filter(([id]) => resolver.isIncluded(id));
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

  for (const [logicalId, resource] of resources) {
    if (!SUPPORTED.has(resource.Type)) app.skipped.push({ logicalId, type: resource.Type });
  }
  for (const [logicalId, resource] of ofType('AWS::Kinesis::Stream')) {
    const stream = problems.guard(() => readStream(logicalId, resource, resolver));
    if (stream) app.streams.push(stream);
  }
  for (const [logicalId] of ofType('AWS::Kinesis::StreamConsumer')) {
    const consumer = problems.guard(() => readConsumer(logicalId, resolver));
    if (consumer) app.consumers.push(consumer);
  }
  for (const [logicalId, resource] of [
    ...ofType('AWS::DynamoDB::Table'),
    ...ofType('AWS::DynamoDB::GlobalTable'),
  ]) {
    const table = problems.guard(() => readTable(logicalId, resource, resolver));
    if (table) app.tables.push(table);
  }
  for (const [logicalId] of ofType('AWS::SQS::Queue')) {
    const queue = problems.guard((): LocalQueue => {
      const { name, attributes } = resolver.identity(logicalId);
      return { logicalId, name, arn: attributes.Arn ?? '', url: attributes.QueueUrl ?? '' };
    });
    if (queue) app.queues.push(queue);
  }
  for (const [logicalId] of ofType('AWS::S3::Bucket')) {
    const bucket = problems.guard((): LocalBucket => {
      const { name, attributes } = resolver.identity(logicalId);
      return { logicalId, name, arn: attributes.Arn ?? '' };
    });
    if (bucket) app.buckets.push(bucket);
  }
  for (const [logicalId, resource] of ofType('AWS::Lambda::Function')) {
    const read = problems.guard(() => readFunction(logicalId, resource, resolver, stack));
    if (read?.kind === 'function') app.functions.push(read.fn);
    else if (read?.kind === 'skipped') app.skipped.push({ logicalId, type: read.type });
  }
  for (const [logicalId, resource] of ofType('AWS::Lambda::Alias')) {
    problems.guard(() => {
      const { functionName } = parseFunctionReference(
        resolver.resolveString(
          resource.Properties?.FunctionName,
          `${logicalId}.Properties.FunctionName`,
        ),
      );
      const fn = app.functions.find((f) => f.name === functionName);
      fn?.aliases.push(resolver.identity(logicalId).name);
    });
  }
  for (const [logicalId] of ofType('AWS::Lambda::Version')) {
    // Versions only matter through the Refs and aliases that name them: locally every version
    // of a function runs the bundle in the assembly.
    problems.guard(() => resolver.identity(logicalId));
  }
  for (const [logicalId, resource] of ofType('AWS::Lambda::EventSourceMapping')) {
    const read = problems.guard(() => readMapping(logicalId, resource, resolver, app, problems));
    if (read?.kind === 'mapping') app.mappings.push(read.mapping);
    else if (read?.kind === 'skipped') app.skipped.push({ logicalId, type: read.type });
  }
  for (const [logicalId, resource] of ofType('AWS::Events::Rule')) {
    const read = problems.guard(() => readScheduleRule(logicalId, resource, resolver, app));
    if (read?.kind === 'schedule') {
      app.schedules.push(read.schedule);
      for (const type of read.skippedTargets) app.skipped.push({ logicalId, type });
    } else if (read?.kind === 'skipped') app.skipped.push({ logicalId, type: read.type });
  }
  if (problems.list.length > 0) {
    throw new TemplateError(
      `stack ${stack.stackName} cannot run locally:\n${problems.list.map((p) => `- ${p}`).join('\n')}`,
    );
  }
  return app;
}

function readStream(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
): LocalStream {
  const props = resolver.resolve(resource.Properties ?? {}, `${logicalId}.Properties`) as Record<
    string,
    unknown
  >;
  const { name, attributes } = resolver.identity(logicalId);
  const mode = (props.StreamModeDetails as { StreamMode?: string } | undefined)?.StreamMode;
  // An on-demand stream starts with 4 shards on AWS (and on kinesis-local).
  const shardCount = Number(props.ShardCount ?? (mode === 'ON_DEMAND' ? 4 : 1));
  const retentionHours = Number(props.RetentionPeriodHours ?? 24);
  requireRange(`${logicalId}.ShardCount`, shardCount, 1, 100_000);
  requireRange(`${logicalId}.RetentionPeriodHours`, retentionHours, 24, 8760);
  const encryption = (props.StreamEncryption as { EncryptionType?: string } | undefined)
    ?.EncryptionType;
  return {
    logicalId,
    name,
    arn: attributes.Arn ?? '',
    shardCount,
    retentionHours,
    ...(encryption === 'KMS' ? { encryption: 'KMS' as const } : {}),
  };
}

function readConsumer(logicalId: string, resolver: TemplateResolver): LocalStreamConsumer {
  const { name, attributes } = resolver.identity(logicalId);
  return {
    logicalId,
    name,
    arn: attributes.ConsumerARN ?? '',
    streamArn: attributes.StreamARN ?? '',
  };
}

type KeyType = 'S' | 'N' | 'B';

function readTable(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
): LocalTable {
  const props = resolver.resolve(resource.Properties ?? {}, `${logicalId}.Properties`) as {
    KeySchema?: { AttributeName: string; KeyType: string }[];
    AttributeDefinitions?: { AttributeName: string; AttributeType: string }[];
  };
  const { name, attributes } = resolver.identity(logicalId);
  const key = (keyType: 'HASH' | 'RANGE') => {
    const attribute = props.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
    if (attribute === undefined) return undefined;
    const type = props.AttributeDefinitions?.find(
      (d) => d.AttributeName === attribute,
    )?.AttributeType;
    if (type !== 'S' && type !== 'N' && type !== 'B') {
      throw new TemplateError(
        `${logicalId}.AttributeDefinitions: key attribute "${attribute}" needs type S, N or B (given ${String(type)})`,
      );
    }
    return { name: attribute, type: type as KeyType };
  };
  const partitionKey = key('HASH');
  if (!partitionKey) throw new TemplateError(`${logicalId}.KeySchema has no HASH key`);
  const sortKey = key('RANGE');
  return {
    logicalId,
    name,
    arn: attributes.Arn ?? '',
    partitionKey,
    ...(sortKey ? { sortKey } : {}),
  };
}

type FunctionRead = { kind: 'function'; fn: LocalFunction } | { kind: 'skipped'; type: string };

function readFunction(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
  stack: StackArtifact,
): FunctionRead {
  const props = resource.Properties ?? {};
  const at = `${logicalId}.Properties`;
  const runtime =
    props.Runtime === undefined
      ? undefined
      : resolver.resolveString(props.Runtime, `${at}.Runtime`);
  // Only Node.js bundles can run in a local Node process; others are reported, not run.
  if (runtime !== undefined && !runtime.startsWith('nodejs')) {
    return { kind: 'skipped', type: `AWS::Lambda::Function (${runtime})` };
  }
  const code = (props.Code ?? {}) as Record<string, unknown>;
  if (code.ImageUri !== undefined)
    return { kind: 'skipped', type: 'AWS::Lambda::Function (container image)' };
  if (code.ZipFile !== undefined)
    return { kind: 'skipped', type: 'AWS::Lambda::Function (inline code)' };
  const codeDirectory = assetDirectory(logicalId, resource, resolver, stack);
  if (codeDirectory === undefined) {
    return { kind: 'skipped', type: 'AWS::Lambda::Function (code not in the assembly)' };
  }
  const { name, attributes } = resolver.identity(logicalId);
  const variables = resolver.resolve(
    (props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {},
    `${at}.Environment.Variables`,
  ) as Record<string, unknown>;
  const environment = Object.fromEntries(
    Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const timeoutSeconds = Number(
    resolver.resolve(props.Timeout ?? FUNCTION_DEFAULTS.timeoutSeconds, `${at}.Timeout`),
  );
  const memoryMb = Number(
    resolver.resolve(props.MemorySize ?? FUNCTION_DEFAULTS.memoryMb, `${at}.MemorySize`),
  );
  requireRange(`${logicalId}.Timeout`, timeoutSeconds, 1, 900);
  requireRange(`${logicalId}.MemorySize`, memoryMb, 128, 10_240);
  const reserved = props.ReservedConcurrentExecutions;
  // Usually `Fn::GetAtt [<role>, Arn]`: the role's ARN in the stack's account, as the resolver builds it.
  const roleArn =
    props.Role === undefined ? undefined : resolver.resolveString(props.Role, `${at}.Role`);
  const bundle = readBundleRecipe(resource.Metadata?.[BUNDLE_METADATA_KEY]);
  return {
    kind: 'function',
    fn: {
      logicalId,
      name,
      arn: attributes.Arn ?? '',
      codeDirectory,
      handler: resolver.resolveString(props.Handler ?? 'index.handler', `${at}.Handler`),
      timeoutSeconds,
      memoryMb,
      environment,
      aliases: [],
      ...(roleArn === undefined ? {} : { roleArn }),
      ...(bundle === undefined ? {} : { bundle }),
      ...(reserved === undefined
        ? {}
        : {
            reservedConcurrency: Number(
              resolver.resolve(reserved, `${at}.ReservedConcurrentExecutions`),
            ),
          }),
    },
  };
}

/**
 * The directory CDK staged the function's code in: `Metadata['aws:asset:path']` when the CLI
 * synthesized (it enables asset metadata), else the asset manifest entry for `Code.S3Key`
 * (a plain `app.synth()` writes no asset metadata).
 */
function assetDirectory(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
  stack: StackArtifact,
): string | undefined {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath === 'string') return resolvePath(stack.directory, assetPath);
  const s3Key = (resource.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key;
  if (s3Key === undefined) return undefined;
  return stack.assetsByObjectKey.get(
    resolver.resolveString(s3Key, `${logicalId}.Properties.Code.S3Key`),
  );
}

type MappingRead =
  | { kind: 'mapping'; mapping: EventSourceMappingConfig }
  | { kind: 'skipped'; type: string };

const STARTING_POSITIONS: readonly StartingPosition[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP'];

function readMapping(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
  app: LocalApp,
  problems: Problems,
): MappingRead {
  const props = resolver.resolve(resource.Properties ?? {}, `${logicalId}.Properties`) as Record<
    string,
    unknown
  >;
  const source = String(props.EventSourceArn ?? '');
  const consumer = app.consumers.find((c) => c.arn === source);
  const stream = app.streams.find((s) => s.arn === (consumer?.streamArn ?? source));
  if (!stream) {
    const service = source.split(':')[2] ?? 'unknown';
    return { kind: 'skipped', type: `AWS::Lambda::EventSourceMapping (${service} source)` };
  }
  const { functionName, qualifier } = parseFunctionReference(String(props.FunctionName ?? ''));
  if (!app.functions.some((f) => f.name === functionName)) {
    return { kind: 'skipped', type: 'AWS::Lambda::EventSourceMapping (function not run locally)' };
  }
  const check = (prop: string, value: number, min: number, max: number, orMinusOne = false) => {
    if (orMinusOne && value === -1) return;
    problems.guard(() => requireRange(`${logicalId}.${prop}`, value, min, max, orMinusOne));
  };
  const number = (prop: string, fallback: number): number => Number(props[prop] ?? fallback);
  const batchSize = number('BatchSize', ESM_DEFAULTS.batchSize);
  const maximumBatchingWindowSeconds = number(
    'MaximumBatchingWindowInSeconds',
    ESM_DEFAULTS.maximumBatchingWindowSeconds,
  );
  const parallelizationFactor = number('ParallelizationFactor', ESM_DEFAULTS.parallelizationFactor);
  const maximumRetryAttempts = number('MaximumRetryAttempts', ESM_DEFAULTS.maximumRetryAttempts);
  const maximumRecordAgeSeconds = number(
    'MaximumRecordAgeInSeconds',
    ESM_DEFAULTS.maximumRecordAgeSeconds,
  );
  const tumblingWindowSeconds = number(
    'TumblingWindowInSeconds',
    ESM_DEFAULTS.tumblingWindowSeconds,
  );
  // Ranges from docs/event-source-mapping.md#mapping-parameters.
  check('BatchSize', batchSize, 1, 10_000);
  check('MaximumBatchingWindowInSeconds', maximumBatchingWindowSeconds, 0, 300);
  check('ParallelizationFactor', parallelizationFactor, 1, 10);
  check('MaximumRetryAttempts', maximumRetryAttempts, 0, 10_000, true);
  check('MaximumRecordAgeInSeconds', maximumRecordAgeSeconds, 60, 604_800, true);
  check('TumblingWindowInSeconds', tumblingWindowSeconds, 0, 900);

  const startingPosition = props.StartingPosition as StartingPosition | undefined;
  if (startingPosition === undefined || !STARTING_POSITIONS.includes(startingPosition)) {
    problems.add(
      `${logicalId}.StartingPosition must be one of ${STARTING_POSITIONS.join(', ')} (given ${String(startingPosition)})`,
    );
  }
  const timestamp = props.StartingPositionTimestamp;
  if (startingPosition === 'AT_TIMESTAMP' && timestamp === undefined) {
    problems.add(
      `${logicalId}.StartingPositionTimestamp is required with StartingPosition AT_TIMESTAMP`,
    );
  }
  const responseTypes = (props.FunctionResponseTypes as string[] | undefined) ?? [];
  for (const type of responseTypes) {
    if (type !== 'ReportBatchItemFailures') {
      problems.add(
        `${logicalId}.FunctionResponseTypes accepts only ReportBatchItemFailures (given ${type})`,
      );
    }
  }
  const filters = (
    (props.FilterCriteria as { Filters?: { Pattern?: string }[] } | undefined)?.Filters ?? []
  ).map((filter) => String(filter.Pattern ?? ''));
  filters.forEach((pattern, i) => {
    // A non-JSON pattern is rejected at create time (docs/event-source-mapping.md#filtering).
    try {
      JSON.parse(pattern);
    } catch {
      problems.add(
        `${logicalId}.FilterCriteria.Filters[${i}].Pattern must be JSON (given ${pattern})`,
      );
    }
  });
  const destination = (
    props.DestinationConfig as { OnFailure?: { Destination?: string } } | undefined
  )?.OnFailure?.Destination;
  const onFailure =
    destination === undefined
      ? undefined
      : problems.guard(() => onFailureOf(logicalId, destination));
  const metrics = (props.MetricsConfig as { Metrics?: string[] } | undefined)?.Metrics ?? [];
  const uuid = resolver.identity(logicalId).ref;
  return {
    kind: 'mapping',
    mapping: {
      logicalId,
      uuid,
      functionName,
      ...(qualifier === undefined ? {} : { functionQualifier: qualifier }),
      eventSourceArn: source,
      streamArn: stream.arn,
      ...(consumer ? { consumerArn: consumer.arn } : {}),
      batchSize,
      maximumBatchingWindowSeconds,
      parallelizationFactor,
      startingPosition: startingPosition ?? 'LATEST',
      ...(timestamp === undefined ? {} : { startingPositionTimestamp: Number(timestamp) }),
      maximumRetryAttempts,
      maximumRecordAgeSeconds,
      bisectBatchOnFunctionError: props.BisectBatchOnFunctionError === true,
      reportBatchItemFailures: responseTypes.includes('ReportBatchItemFailures'),
      tumblingWindowSeconds,
      filters,
      ...(onFailure ? { onFailure } : {}),
      enabled: props.Enabled === undefined ? ESM_DEFAULTS.enabled : props.Enabled === true,
      metricsEventCount: metrics.includes('EventCount'),
    },
  };
}

/**
 * On-failure destinations for Kinesis: an SQS queue, SNS topic or S3 bucket
 * (docs/event-source-mapping.md#mapping-parameters).
 */
function onFailureOf(logicalId: string, arn: string): OnFailureDestination {
  const service = arn.split(':')[2];
  if (service === 'sqs' || service === 'sns' || service === 's3') return { kind: service, arn };
  throw new TemplateError(
    `${logicalId}.DestinationConfig.OnFailure.Destination must be an SQS queue, SNS topic or S3 bucket ARN (given ${arn})`,
  );
}

function requireRange(
  name: string,
  value: number,
  min: number,
  max: number,
  orMinusOne = false,
): void {
  if (Number.isInteger(value) && ((value >= min && value <= max) || (orMinusOne && value === -1))) {
    return;
  }
  const range = `between ${min} and ${max}${orMinusOne ? ', or -1' : ''}`;
  throw new TemplateError(`${name} must be ${range} (given ${value})`);
}
