import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { ArchiveProps } from './archive-props';

/** Defaults of {@link ArchiveProps}. */
export const ARCHIVE_DEFAULTS = {
  retention: Duration.days(365),
  bufferingInterval: Duration.seconds(300),
} as const;

/**
 * Where a source's records land in the archive bucket: `records/<source>/YYYY/MM/DD/HH/` (UTC,
 * the hour Firehose received them), one object per buffer, gzipped, one record per line.
 * `driverless backfill --archive s3://<bucket>/records/<source>/` reads exactly this layout.
 */
export function archivePrefix(source: string): string {
  return `records/${source}/`;
}

/** Where Firehose puts what it could not deliver, by error type. */
export function archiveErrorPrefix(source: string): string {
  return `errors/${source}/`;
}

/** The problems of archive props (empty when valid), naming the value given. */
export function archiveProblems(props: ArchiveProps): string[] {
  const problems: string[] = [];
  const retention = props.retention?.toDays({ integral: false });
  if (retention !== undefined && retention < 1)
    problems.push(
      `archive.retention must be at least 1 day (given ${props.retention?.toHumanString()})`,
    );
  const interval = props.bufferingInterval?.toSeconds();
  if (interval !== undefined && (interval < 0 || interval > 900))
    problems.push(
      `archive.bufferingInterval must be between 0 and 900 seconds (given ${interval})`,
    );
  return problems;
}

/**
 * The pipeline's archive: one encrypted bucket with a lifecycle, and per source a Kinesis Data
 * Firehose delivery stream that reads the source's stream and writes its records there, gzipped,
 * each followed by a newline (`AppendDelimiterToRecord`), so objects are NDJSON when the records
 * are JSON, and history outlives the stream's retention.
 */
export class PipelineArchive extends Construct {
  readonly bucket: s3.Bucket;
  private readonly props: Required<ArchiveProps>;

  constructor(
    scope: Construct,
    id: string,
    props: ArchiveProps & { readonly accessLogs: s3.IBucket },
  ) {
    super(scope, id);
    this.props = {
      retention: props.retention ?? ARCHIVE_DEFAULTS.retention,
      bufferingInterval: props.bufferingInterval ?? ARCHIVE_DEFAULTS.bufferingInterval,
    };
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // History is what the archive is for: it stays when the stack goes.
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'ExpireArchive',
          expiration: this.props.retention,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      serverAccessLogsBucket: props.accessLogs,
      // Under the bucket's construct path, as the failure buckets log.
      serverAccessLogsPrefix: `${this.node.path.slice(Stack.of(this).node.path.length + 1)}/Bucket/`,
    });
  }

  /**
   * Archives one source: a delivery stream reading `stream`, whose role may read only that stream
   * and write only under the source's prefixes; `readers` (the source's functions, for backfills)
   * may read only the source's records.
   */
  addSource(
    scope: Construct,
    source: string,
    stream: kinesis.IStream,
    readers: readonly lambda.IFunction[],
  ): firehose.CfnDeliveryStream {
    const role = new iam.Role(scope, 'ArchiveRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: `Kinesis Data Firehose: archive of ${source}`,
    });
    // What Firehose needs from a Kinesis source and an S3 destination, and no more.
    // https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html
    stream.grantRead(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        resources: [
          this.bucket.arnForObjects(`${archivePrefix(source)}*`),
          this.bucket.arnForObjects(`${archiveErrorPrefix(source)}*`),
        ],
      }),
    );
    const hour = '!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/!{timestamp:HH}/';
    const delivery = new firehose.CfnDeliveryStream(scope, 'Archive', {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: {
        kinesisStreamArn: stream.streamArn,
        roleArn: role.roleArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: this.bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: `${archivePrefix(source)}${hour}`,
        errorOutputPrefix: `${archiveErrorPrefix(source)}!{firehose:error-output-type}/${hour}`,
        bufferingHints: {
          intervalInSeconds: this.props.bufferingInterval.toSeconds(),
          sizeInMBs: 64,
        },
        compressionFormat: 'GZIP',
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'AppendDelimiterToRecord',
              parameters: [{ parameterName: 'Delimiter', parameterValue: '\\n' }],
            },
          ],
        },
      },
    });
    // Firehose checks its role's permissions when the stream is created: the policy must exist.
    // On the policy alone: the role is already ordered by the ARN the stream refers to.
    delivery.node.addDependency(role.node.findChild('DefaultPolicy'));
    for (const reader of readers) {
      // A backfill's invocation reads archive objects with GetObject only; the CLI lists them.
      reader.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.bucket.arnForObjects(`${archivePrefix(source)}*`)],
        }),
      );
    }
    return delivery;
  }
}
