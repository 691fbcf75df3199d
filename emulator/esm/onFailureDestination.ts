import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type OnFailureRecord, onFailureObjectKey } from '../../functions/kinesis/index';
import type { OnFailureDestination } from '../model';

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

  /**
   * SQS gets metadata only as a JSON string; S3 gets metadata plus `payload`
   * (docs/event-source-mapping.md#on-failure-delivery).
   */
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
