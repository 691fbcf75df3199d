// The stack a user writes after `cdk init app --language typescript` and `npm install driverless`.
import * as cdk from 'aws-cdk-lib/core';
import type { Construct } from 'constructs';
import { MicroBatchPipeline } from 'driverless';

export class ConsumerAppStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    new MicroBatchPipeline(this, 'Orders', {
      sources: {
        orders: { stream: { shardCount: 1 }, entry: 'functions/orders.ts' },
      },
    });
  }
}
