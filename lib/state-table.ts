import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/**
 * The key schema and TTL attribute the runtime's stateful jobs rely on; the runtime owns the item
 * layout under them (docs/state.md).
 */
export const STATE_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  timeToLive: 'expiresAt',
} as const;

/**
 * Exactly the calls of the stateful jobs: single-item reads and conditional writes, BatchGetItem
 * for a batch's keys and Query for a key's windows. No transactions and no batch writes: every
 * write is conditional on its own item, which BatchWriteItem cannot express.
 */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/**
 * The pipeline's keyed-state table, made like its checkpoint table (on-demand, point-in-time
 * recovery, AWS managed encryption, retained when it leaves the stack, as a DynamoDB table is by
 * default): windows still open and join sides still waiting are data a `cdk destroy` must not
 * lose. Items expire by TTL once the watermark has passed them, so the table does not grow with
 * the stream's history.
 */
export function createStateTable(scope: Construct, id: string): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: STATE_TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
    sortKey: { name: STATE_TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
    timeToLiveAttribute: STATE_TABLE_KEYS.timeToLive,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
  });
}

/** Lets `grantee` make the stateful jobs' calls on `table`, and no other. */
export function grantStateAccess(table: dynamodb.ITable, grantee: iam.IGrantable): void {
  table.grant(grantee, ...STATE_TABLE_ACTIONS);
}
