/**
 * The physical names the pipeline writes into a template itself, and the limits CloudFormation
 * enforces on them. Every other resource (functions, roles, log groups, queues, buckets, tables,
 * alarms, dashboards, CodeDeploy applications and groups) is left unnamed, so CloudFormation
 * generates a name within its type's limit and unique per stack.
 */

/** Longest name of an `AWS::Kinesis::StreamConsumer`, and the characters it may hold. */
export const CONSUMER_NAME = { maxLength: 128, pattern: /^[a-zA-Z0-9_.-]+$/ } as const;

/** Longest name of an `AWS::Kinesis::Stream`, and the characters it may hold. */
export const STREAM_NAME = { maxLength: 128, pattern: /^[a-zA-Z0-9_.-]+$/ } as const;

/**
 * The enhanced fan-out consumer of an isolated job: unique per stream as long as pipeline,
 * source and job names are, and readable in the Kinesis console.
 *
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-kinesis-streamconsumer.html
 */
export function consumerName(pipelineName: string, sourceName: string, job: string): string {
  return `${pipelineName}-${sourceName}-${job}`;
}
