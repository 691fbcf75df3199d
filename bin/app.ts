import { App } from 'aws-cdk-lib';
import { RetailStack } from '../lib/retail-stack';

const app = new App();
new RetailStack(app, 'DriverlessRetail', {
  stage: app.node.tryGetContext('stage'),
  description: 'Driverless example: a retail micro-batch pipeline over Kinesis',
});
