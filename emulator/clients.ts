import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Region the embedded stack reports and the emulators put in their ARNs. */
export const LOCAL_REGION = 'us-east-1';
/** Account the emulators put in their ARNs (kinesalite, dynalite, kinesis-local and fauxqs agree). */
export const LOCAL_ACCOUNT_ID = '000000000000';
/** The emulators accept any credentials; these are the conventional dummies. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** Base URLs (`http://127.0.0.1:<port>`) of the embedded API servers. */
export interface ServiceEndpoints {
  kinesis: string;
  dynamodb: string;
  sqs: string;
  s3: string;
  /** The Lambda Invoke API, when it is running. */
  lambda?: string;
}

/**
 * Options every local client shares. The servers accept HTTP/1.1 and HTTP/2 (a user's default
 * clients work); ours use HTTP/1.1, measured faster for small calls (docs/emulator.md#http1).
 */
function localConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    requestHandler: new NodeHttpHandler(),
  };
}

export function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient(localConfig(endpoint));
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient(localConfig(endpoint));
}

/** DocumentClient over {@link dynamoClient}; `undefined` attributes are dropped, as most apps want. */
export function documentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamoClient(endpoint), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * `useQueueUrlAsEndpoint: false` keeps requests on `endpoint` whatever host a queue URL names
 * (fauxqs's default `sqs.<region>.localhost` does not resolve; docs/emulator.md#fauxqs).
 */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ ...localConfig(endpoint), useQueueUrlAsEndpoint: false });
}

/** Path-style addressing: `<bucket>.127.0.0.1` is not a host name. */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({ ...localConfig(endpoint), forcePathStyle: true });
}

export function lambdaClient(endpoint: string): LambdaClient {
  return new LambdaClient(localConfig(endpoint));
}

/**
 * Environment for a local function process: the SDK's service-specific endpoint variables
 * point unmodified AWS SDK code at the embedded servers.
 * @see https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
 */
export function localAwsEnvironment(endpoints: ServiceEndpoints): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    ...(endpoints.lambda === undefined ? {} : { AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda }),
  };
}
