import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OnFailureDestination } from '../model';
import type { OnFailureCondition } from './EsmEvent';
import type { StreamRecord } from './kinesisEvent';

/** The metadata document Lambda writes for discarded records (ESM-SEMANTICS §4), keys in AWS order. */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  /** Omitted for `RecordAgeExceeded` (§3.5 [OBS O]). */
  responseContext?: {
    statusCode: 200;
    executedVersion: string;
    /** `Unhandled` for a thrown error, `null` after a partial-batch or invalid response. */
    functionError: 'Unhandled' | null;
  };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface OnFailureInput {
  functionArn: string;
  streamArn: string;
  shardId: string;
  condition: OnFailureCondition;
  approximateInvokeCount: number;
  response?: { executedVersion: string; functionError: 'Unhandled' | null };
  /** The discarded records, in order (at least one). */
  records: readonly StreamRecord[];
  now: Date;
}

export function onFailureRecord(input: OnFailureInput): OnFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (!first || !last) throw new Error('an on-failure record needs at least one record');
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    ...(input.response && {
      responseContext: {
        statusCode: 200 as const,
        executedVersion: input.response.executedVersion,
        functionError: input.response.functionError,
      },
    }),
    version: '1.0',
    timestamp: input.now.toISOString(),
    KinesisBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}

/** Where Lambda writes on-failure records in a bucket: `aws/lambda/<ESM-UUID>/...` (§4). */
export const S3_ON_FAILURE_PREFIX = 'aws/lambda/';

/** `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>` (§4), UTC. */
export function onFailureObjectKey(mappingUuid: string, shardId: string, at: Date): string {
  const iso = at.toISOString();
  const [yyyy, mm, dd] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const time = iso.slice(11, 19).replaceAll(':', '.');
  return `${S3_ON_FAILURE_PREFIX}${mappingUuid}/${shardId}/${yyyy}/${mm}/${dd}/${yyyy}-${mm}-${dd}T${time}-${randomUUID()}`;
}

export interface DestinationClients {
  sqs?: SQSClient;
  s3?: S3Client;
}

/** Writes on-failure records to the mapping's destination. */
export class OnFailureDelivery {
  private queueUrl: Promise<string> | undefined;

  constructor(
    private readonly destination: OnFailureDestination,
    private readonly clients: DestinationClients,
    private readonly mappingUuid: string,
    private readonly s3PayloadFormat: 'string' | 'object',
  ) {}

  get kind(): OnFailureDestination['kind'] {
    return this.destination.kind;
  }

  /** SQS gets metadata only as a JSON string; S3 gets metadata plus `payload` (§4). */
  async deliver(record: OnFailureRecord, invocationEvent: unknown): Promise<void> {
    const { kind, arn } = this.destination;
    if (kind === 'sqs') {
      const sqs = this.clients.sqs;
      if (!sqs) throw new Error(`on-failure destination ${arn} needs an SQS client`);
      this.queueUrl ??= this.resolveQueueUrl(sqs, arn).catch((error: unknown) => {
        this.queueUrl = undefined;
        throw error;
      });
      const QueueUrl = await this.queueUrl;
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(record) }));
      return;
    }
    if (kind === 's3') {
      const s3 = this.clients.s3;
      if (!s3) throw new Error(`on-failure destination ${arn} needs an S3 client`);
      const payload =
        this.s3PayloadFormat === 'string' ? JSON.stringify(invocationEvent) : invocationEvent;
      await s3.send(
        new PutObjectCommand({
          Bucket: arn.split(':').pop(),
          Key: onFailureObjectKey(
            this.mappingUuid,
            record.KinesisBatchInfo.shardId,
            new Date(record.timestamp),
          ),
          Body: JSON.stringify({ ...record, payload }),
          ContentType: 'application/json',
        }),
      );
      return;
    }
    throw new Error(`on-failure destination kind ${kind} is not supported locally (${arn})`);
  }

  private async resolveQueueUrl(sqs: SQSClient, arn: string): Promise<string> {
    // arn:aws:sqs:<region>:<account>:<name>
    const [, , , , account, name] = arn.split(':');
    const out = await sqs.send(
      new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
    );
    if (!out.QueueUrl) throw new Error(`queue ${arn} has no URL`);
    return out.QueueUrl;
  }
}
