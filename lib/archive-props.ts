import type { Duration } from 'aws-cdk-lib';

/** Options of the pipeline's archive of every source's records (`archive` of the pipeline). */
export interface ArchiveProps {
  /**
   * How long archived objects are kept: a lifecycle rule expires them after this, at least
   * 1 day. Keep it longer than the history a backfill may need.
   *
   * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html
   * @default Duration.days(365)
   */
  readonly retention?: Duration;
  /**
   * How long Firehose buffers records before it writes an object, 0-900 seconds: longer makes
   * fewer, larger objects (a backfill reads an object in one invocation).
   *
   * @see https://docs.aws.amazon.com/firehose/latest/dev/buffering-hints.html
   * @default Duration.seconds(300)
   */
  readonly bufferingInterval?: Duration;
}
