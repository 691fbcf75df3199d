import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterMessage } from './dead-letter-message';
import type { SourceFunction } from './discover-source';
import type { RedriveProgress } from './redrive-progress';
import type { ReplaySet } from './replay-set';

/** What every reader of failures shares: the clients, the filters and the set it fills. */
export interface ReadContext {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly kinesis: KinesisClient;
  readonly set: ReplaySet;
  /** Epoch milliseconds of `--since`; `-Infinity` for all. */
  readonly since: number;
  readonly visibilityTimeoutSeconds: number;
  /** The selected functions' dead-letter buckets: the only ones a letter's payload is read from. */
  readonly payloadBuckets: ReadonlySet<string>;
  /** The selected function a letter belongs to, or undefined when it is not selected. */
  readonly functionOf: (letter: DeadLetterMessage) => SourceFunction | undefined;
  readonly onProgress?: ((progress: RedriveProgress) => void) | undefined;
}

/** A read error the user can fix, as one line that says what to check. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
