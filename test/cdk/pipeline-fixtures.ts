import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { RetailStack } from '../../example/retail-stack';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import type { MicroBatchPipelineProps } from '../../lib/micro-batch-pipeline-props';
import type { SourceProps } from '../../lib/source-props';

/** A trivial handler module: bundles in milliseconds, so tests synthesize fast. */
export const FIXTURE_ENTRY = path.join(
  __dirname,
  '..',
  'fixtures',
  'functions',
  'batch-handler.ts',
);

/** A valid source reading a new one-shard stream; override what the test is about. */
export function sourceProps(overrides: Partial<SourceProps> = {}): SourceProps {
  return { stream: { shardCount: 1 }, entry: FIXTURE_ENTRY, ...overrides };
}

/** Valid pipeline props with one source `events`; override what the test is about. */
export function pipelineProps(
  overrides: Partial<MicroBatchPipelineProps> = {},
): MicroBatchPipelineProps {
  return { sources: { events: sourceProps() }, ...overrides };
}

/** A pipeline `Test` alone in stack `TestStack`. */
export function synthPipeline(props: MicroBatchPipelineProps): {
  stack: Stack;
  pipeline: MicroBatchPipeline;
  template: Template;
} {
  const stack = new Stack(new App(), 'TestStack');
  const pipeline = new MicroBatchPipeline(stack, 'Test', props);
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** The example stack as `bin/app.ts` builds it, with the fixture handler as both entries. */
export function retailStack(
  app: App = new App(),
  options: { readonly stage?: string } = {},
): RetailStack {
  return new RetailStack(app, 'DriverlessRetail', {
    productViewsEntry: FIXTURE_ENTRY,
    ordersEntry: FIXTURE_ENTRY,
    stage: options.stage,
  });
}

/**
 * The problems a pipeline's props fail synth with (its validation errors), or [] when accepted.
 * Nothing is bundled for rejected props.
 */
export function problemsOf(
  props: MicroBatchPipelineProps,
  stack = new Stack(new App(), 'TestStack'),
): string[] {
  return new MicroBatchPipeline(stack, 'Test', props).node.validate();
}

/** Logical IDs a CloudFormation value refers to through `Ref` and `Fn::GetAtt`. */
export function referencedLogicalIds(value: unknown): Set<string> {
  const ids = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) {
        if (key === 'Ref' && typeof child === 'string') ids.add(child);
        else if (key === 'Fn::GetAtt' && Array.isArray(child)) ids.add(String(child[0]));
        else visit(child);
      }
    }
  };
  visit(value);
  return ids;
}
