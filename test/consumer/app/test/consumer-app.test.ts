import { Template } from 'aws-cdk-lib/assertions';
import * as cdk from 'aws-cdk-lib/core';
import * as ConsumerApp from '../lib/consumer-app-stack';

test('the pipeline gives the orders stream a function and a mapping', () => {
  // Given
  const app = new cdk.App();

  // When
  const stack = new ConsumerApp.ConsumerAppStack(app, 'MyTestStack');

  // Then
  const template = Template.fromStack(stack);
  template.resourceCountIs('AWS::Kinesis::Stream', 1);
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionResponseTypes: ['ReportBatchItemFailures'],
  });
});
