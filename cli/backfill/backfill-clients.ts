import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { readStackState } from '../../emulator/index';
import { fail } from '../cli-error';

/** The clients a backfill uses: it plans with Kinesis and S3, invokes Lambda, keeps progress in DynamoDB. */
export interface BackfillClients {
  readonly lambda: LambdaClient;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  readonly region: string;
}

// A backfill invocation runs up to the function's timeout (15 minutes at most): no socket timeout.
const handler = () => new NodeHttpHandler({ requestTimeout: 0 });

/** Clients for a running embedded stack, from the endpoints it wrote to its state file. */
export function clientsFromStateFile(path: string): BackfillClients {
  const read = readStackState(path);
  if (read.kind === 'unreadable') {
    fail(
      `endpoint file ${path} is ${read.reason}: start the embedded stack (npm start) or pass --endpoint-file`,
    );
  }
  if (read.kind === 'stale') fail(`${read.reason}, or pass --endpoint-file`);
  const { state } = read;
  const { lambda, kinesis, s3, dynamodb } = state.endpoints ?? {};
  if (!lambda || !kinesis || !s3 || !dynamodb) {
    fail(
      `endpoint file ${path} names no lambda, kinesis, s3 and dynamodb endpoints: restart the embedded stack (npm start)`,
    );
  }
  const region = state.region ?? 'us-east-1';
  const common = {
    region,
    credentials: state.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: handler(),
    maxAttempts: 2,
  };
  return {
    // One attempt: a retried Invoke would run the slice twice at once.
    lambda: new LambdaClient({ ...common, endpoint: lambda, maxAttempts: 1 }),
    kinesis: new KinesisClient({ ...common, endpoint: kinesis }),
    // Path-style: `<bucket>.127.0.0.1` is not a host name.
    s3: new S3Client({ ...common, endpoint: s3, forcePathStyle: true }),
    dynamodb: new DynamoDBClient({ ...common, endpoint: dynamodb }),
    region,
  };
}

/** Clients for the environment's region, credentials and endpoints (`AWS_ENDPOINT_URL_*`, AWS otherwise). */
export function clientsFromEnvironment(): BackfillClients {
  const common = { requestHandler: handler(), maxAttempts: 3 };
  const lambda = new LambdaClient({ ...common, maxAttempts: 1 });
  return {
    lambda,
    kinesis: new KinesisClient(common),
    s3: new S3Client({
      ...common,
      forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL),
    }),
    dynamodb: new DynamoDBClient(common),
    region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}
