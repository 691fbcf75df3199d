import { App } from 'aws-cdk-lib';
import { RetailStack } from '../example/retail-stack';

const app = new App();
new RetailStack(app, 'DriverlessRetail', {
  stage: app.node.tryGetContext('stage'),
  description: 'Driverless example: a retail micro-batch pipeline over Kinesis',
});
