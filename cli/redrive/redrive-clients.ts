import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readStackState } from '../../emulator/index';
import { RedriveUsageError } from './redrive-error';

/** The clients a redrive uses. */
export interface RedriveClients {
  readonly lambda: LambdaClient;
  readonly sqs: SQSClient;
  readonly kinesis: KinesisClient;
  /** Dead letters in a bucket, payloads that overflowed to S3, S3 on-failure destinations. */
  readonly s3: S3Client;
}

/**
 * Clients for the endpoints a running embedded stack wrote to `.driverless/local.json`
 * (`npm start`). Fails with what to do when the file is missing or names no Lambda endpoint.
 */
export function clientsFromStateFile(path: string): RedriveClients {
  const read = readStackState(path);
  if (read.kind === 'unreadable') {
    throw new RedriveUsageError(
      `endpoint file ${path} is ${read.reason}: start the embedded stack (npm start) or pass --endpoint-file`,
    );
  }
  if (read.kind === 'stale') throw new RedriveUsageError(`${read.reason}, or pass --endpoint-file`);
  const { state } = read;
  const { lambda, sqs, kinesis, s3 } = state.endpoints ?? {};
  if (!lambda || !sqs || !kinesis || !s3) {
    throw new RedriveUsageError(
      `endpoint file ${path} names no lambda, sqs, kinesis and s3 endpoints: restart the embedded stack (npm start)`,
    );
  }
  const common = {
    region: state.region ?? 'us-east-1',
    credentials: state.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
    // An unreachable endpoint should fail in seconds, not after the SDK's retries.
    maxAttempts: 2,
  };
  return {
    lambda: new LambdaClient({ ...common, endpoint: lambda }),
    sqs: new SQSClient({ ...common, endpoint: sqs, useQueueUrlAsEndpoint: false }),
    kinesis: new KinesisClient({ ...common, endpoint: kinesis }),
    // Path-style: `<bucket>.127.0.0.1` is not a host name (as emulator/clients.ts; docs/emulator.md#fauxqs).
    s3: new S3Client({ ...common, endpoint: s3, forcePathStyle: true }),
  };
}

/** Clients for the environment's region and endpoints (`AWS_ENDPOINT_URL_*`, AWS otherwise). */
export function clientsFromEnvironment(): RedriveClients {
  const common = { requestHandler: new NodeHttpHandler(), maxAttempts: 3 };
  return {
    lambda: new LambdaClient(common),
    sqs: new SQSClient({
      ...common,
      useQueueUrlAsEndpoint: !(process.env.AWS_ENDPOINT_URL_SQS ?? process.env.AWS_ENDPOINT_URL),
    }),
    kinesis: new KinesisClient(common),
    // With an endpoint override (LocalStack) bucket host names may not resolve: path-style then.
    s3: new S3Client({
      ...common,
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    }),
  };
}
