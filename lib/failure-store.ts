import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { S3_KEY_PREFIXES } from './environment-names';
import type { FailureDestinationKind } from './micro-batch-pipeline-props';

/** Where failed records are kept: a queue or a bucket, never both. */
export type FailureStore =
  | { readonly kind: 'queue'; readonly queue: sqs.Queue }
  | { readonly kind: 'bucket'; readonly bucket: s3.Bucket };

/** How a failure store is made. */
export interface FailureStoreProps {
  /** What the store receives, said in acknowledgements. */
  readonly reason: string;
  /** How long a message or an object is kept. */
  readonly retention: Duration;
  /** Where a bucket's server access logs go (see {@link createAccessLogBucket}). */
  readonly accessLogs: s3.IBucket;
}

/** How long the server access logs of failure buckets are kept: a year of audits. */
const ACCESS_LOG_RETENTION = Duration.days(365);

/**
 * The bucket of the server access logs of a pipeline's failure buckets, one per pipeline. Failed
 * records may hold personal data, and CloudTrail logs no object reads or writes unless S3 data
 * events are bought: these logs say who read or wrote which failure object, and when.
 */
export function createAccessLogBucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: ACCESS_LOG_RETENTION }],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions::AwsSolutions-S1',
    reason:
      "This bucket holds the server access logs of the pipeline's failure buckets; logging its own access would only log the log deliveries.",
  });
  return bucket;
}

/**
 * Creates an encrypted, SSL-only store that keeps what it receives for `retention`: a queue, or a
 * private bucket. Both outlive the stack like its log groups do: a `cdk destroy` must not take
 * the only copy of failed records with it, and their retention still ends their stay.
 */
export function createFailureStore(
  scope: Construct,
  id: string,
  kind: FailureDestinationKind,
  props: FailureStoreProps,
): FailureStore {
  if (kind === 'bucket') return { kind, bucket: createFailureBucket(scope, id, props) };
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: props.retention,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions::AwsSolutions-SQS3',
    reason: `This queue is itself a dead-letter destination (${props.reason}); a queue behind it would only move the problem.`,
  });
  return { kind, queue };
}

/**
 * A private, encrypted, SSL-only bucket, retained with the stack, whose objects expire after
 * `retention`: failed records may hold personal data, which must not stay once nobody can
 * redrive it (a letter in a queue expires after the same time). Its server access logs go to
 * `accessLogs`, under the bucket's construct path.
 */
export function createFailureBucket(
  scope: Construct,
  id: string,
  props: FailureStoreProps,
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ id: 'ExpireFailures', expiration: props.retention }],
    serverAccessLogsBucket: props.accessLogs,
    serverAccessLogsPrefix: `${pathInStack(scope)}/${id}/`,
  });
  return bucket;
}

/** `Pipeline/Events/Main`: a construct's path without its stack's. */
function pathInStack(scope: Construct): string {
  return scope.node.path.slice(Stack.of(scope).node.path.length + 1);
}

/**
 * The on-failure destination of a mapping. For a bucket, the mapping's role gets `s3:PutObject`
 * on the keys Lambda writes (`aws/lambda/…`) and `s3:ListBucket`, what Lambda needs
 * (docs/event-source-mapping.md#on-failure-delivery), instead of `S3OnFailureDestination`'s
 * read/write grant.
 */
export function onFailureDestination(store: FailureStore): lambda.IEventSourceDlq {
  if (store.kind === 'queue') return new eventSources.SqsDlq(store.queue);
  const bucket = store.bucket;
  return {
    bind(
      _target: lambda.IEventSourceMapping,
      targetHandler: lambda.IFunction,
    ): lambda.DlqDestinationConfig {
      grantPutObjects(bucket, S3_KEY_PREFIXES.onFailure, targetHandler);
      targetHandler.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }),
      );
      return { destination: bucket.bucketArn };
    },
  };
}

/** Lets the runtime in `grantee` add dead letters to the store, nothing more. */
export function grantWriteDeadLetters(store: FailureStore, grantee: lambda.IFunction): void {
  if (store.kind === 'queue') store.queue.grantSendMessages(grantee);
  else grantPutObjects(store.bucket, S3_KEY_PREFIXES.deadLetters, grantee);
}

/**
 * Lets `grantee` put objects under `prefix` of `bucket`, nothing more. The keys below it are
 * generated (shard, day, function, batch, a UUID), hence the wildcard; a function's own name cannot
 * narrow it further, since its policy would then refer to the function that depends on it.
 */
export function grantPutObjects(
  bucket: s3.Bucket,
  prefix: string,
  grantee: lambda.IFunction,
): void {
  grantee.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['s3:PutObject'],
      resources: [bucket.arnForObjects(`${prefix}*`)],
    }),
  );
  if (grantee.role) {
    const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(grantee.role).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
      reason: `Failure objects get generated keys under ${prefix}, so the grant covers that prefix of this one bucket; only s3:PutObject is allowed.`,
    });
  }
}
