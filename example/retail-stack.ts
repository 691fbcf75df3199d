import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { MicroBatchPipeline } from 'driverless';

/** Props of {@link RetailStack}. */
export interface RetailStackProps extends StackProps {
  /**
   * Handler module of the `productViews` source.
   *
   * @default functions/product-views.ts
   */
  readonly productViewsEntry?: string;
  /**
   * Handler module of the `orders` source.
   *
   * @default functions/orders.ts
   */
  readonly ordersEntry?: string;
  /**
   * How deployments shift traffic (all-at-once suits development stages).
   *
   * @default codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES
   */
  readonly deploymentConfig?: codedeploy.ILambdaDeploymentConfig;
  /**
   * Stage of this copy of the app (`cdk deploy -c stage=test`): the stack is named
   * `<id>-<stage>` and the streams `product-views-<stage>` and `orders-<stage>`, so several stages
   * can live in one account and region.
   *
   * Range: 1 to 32 letters, digits and `-`, starting with a letter.
   * @default - no stage: stack `<id>`, streams `product-views` and `orders`
   */
  readonly stage?: string;
}

const STAGE = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

const FUNCTIONS = path.join(__dirname, '..', 'functions', 'example');

/**
 * The example app: product views and orders feed recommendations, per-minute popularity,
 * trending products (views per product over 10 minutes, every minute) and conversion rates per
 * product (views followed by an order of the product within 30 minutes).
 * `popularity` is isolated in its own function and consumer, so a slow popularity write cannot
 * hold back recommendations.
 */
export class RetailStack extends Stack {
  readonly pipeline: MicroBatchPipeline;
  readonly recommendations: dynamodb.Table;
  readonly popularity: dynamodb.Table;
  readonly trending: dynamodb.Table;
  readonly conversions: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RetailStackProps = {}) {
    const { stage } = props;
    if (stage !== undefined && !STAGE.test(stage)) {
      throw new Error(
        `RetailStack '${id}': stage must be 1 to 32 letters, digits and '-', starting with a letter (given '${stage}')`,
      );
    }
    super(scope, id, {
      ...props,
      stackName: props.stackName ?? (stage === undefined ? undefined : `${id}-${stage}`),
    });
    const staged = (name: string): string => (stage === undefined ? name : `${name}-${stage}`);
    // The example's records are sample data, so its streams leave with the stack: it can be
    // destroyed and deployed again under the same names. An app whose streams hold records it
    // cannot lose keeps the default (RETAIN) and leaves streamName out.
    const removalPolicy = RemovalPolicy.DESTROY;
    // One item per (user, product): views and purchases are idempotent single-item updates.
    this.recommendations = resultTable(
      this,
      'Recommendations',
      { name: 'userId', type: dynamodb.AttributeType.STRING },
      { name: 'productId', type: dynamodb.AttributeType.STRING },
    );
    this.popularity = resultTable(
      this,
      'Popularity',
      { name: 'productId', type: dynamodb.AttributeType.STRING },
      { name: 'minute', type: dynamodb.AttributeType.STRING },
    );

    // One item per (product, 10-minute window), written once when the window closes.
    this.trending = resultTable(
      this,
      'Trending',
      { name: 'productId', type: dynamodb.AttributeType.STRING },
      { name: 'windowEnd', type: dynamodb.AttributeType.STRING },
    );
    // One item per product: views and converted views, so the rate is converted / views; and a
    // marker per counted result (functions/example/retail/tables.ts), expiring on `expiresAt`.
    this.conversions = resultTable(
      this,
      'Conversions',
      { name: 'productId', type: dynamodb.AttributeType.STRING },
      undefined,
      'expiresAt',
    );

    this.pipeline = new MicroBatchPipeline(this, 'Retail', {
      deploymentConfig: props.deploymentConfig,
      // Keyed state for trending (a sliding window) and conversions (a join of both sources).
      state: true,
      // Per-job cursors: a job that already committed a retried batch is not run on it again.
      checkpoints: true,
      // One X-Ray subsegment per batch, per stage and per job.
      tracing: true,
      environment: {
        RECOMMENDATIONS_TABLE: this.recommendations.tableName,
        POPULARITY_TABLE: this.popularity.tableName,
        TRENDING_TABLE: this.trending.tableName,
        CONVERSIONS_TABLE: this.conversions.tableName,
      },
      sources: {
        productViews: {
          stream: { shardCount: 2, streamName: staged('product-views'), removalPolicy },
          entry: props.productViewsEntry ?? path.join(FUNCTIONS, 'product-views.ts'),
          batchSize: 500,
          maxBatchingWindow: Duration.seconds(1),
          // Per-shard cursors need one batch in flight per shard.
          parallelizationFactor: 1,
          isolateJobs: ['popularity'],
          jobs: ['recommendations', 'popularity', 'trending', 'conversions'],
        },
        orders: {
          stream: { shardCount: 1, streamName: staged('orders'), removalPolicy },
          entry: props.ordersEntry ?? path.join(FUNCTIONS, 'orders.ts'),
          parallelizationFactor: 1,
          jobs: ['recommendations', 'conversions'],
        },
      },
    });
    for (const fn of this.pipeline.functions) {
      this.recommendations.grantReadWriteData(fn);
      this.popularity.grantReadWriteData(fn);
      this.trending.grantWriteData(fn);
      this.conversions.grantWriteData(fn);
    }
  }
}

function resultTable(
  scope: Construct,
  id: string,
  partitionKey: dynamodb.Attribute,
  sortKey?: dynamodb.Attribute,
  timeToLiveAttribute?: string,
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey,
    sortKey,
    timeToLiveAttribute,
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
  });
}
