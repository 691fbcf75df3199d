import { join } from 'node:path';
import { type SourceToWire, type StackFile, wireSource } from '../../../cli/new/wire-source';

const ROOT = '/project';

const source = (overrides: Partial<SourceToWire> = {}): SourceToWire => ({
  key: 'clickCounts',
  handlerFile: join(ROOT, 'functions', 'click-counts.ts'),
  environment: ['TABLE_NAME'],
  window: false,
  state: false,
  ...overrides,
});

const stackFile = (text: string, overrides: Partial<StackFile> = {}): StackFile => ({
  path: join(ROOT, 'lib', 'app-stack.ts'),
  text,
  esm: false,
  root: ROOT,
  ...overrides,
});

const PIPELINE = `import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { MicroBatchPipeline } from 'driverless';

export class AppStack extends Stack {
  constructor() {
    super();
    new MicroBatchPipeline(this, 'P', {
      sources: {
        clicks: { stream: { shardCount: 1, streamName: 'clicks' }, entry: 'functions/clicks.ts' },
      },
    });
  }
}
`;

describe('wireSource', () => {
  it('adds the source at the top of sources, its entry beside the stack through path', () => {
    // When
    const { text } = wireSource(stackFile(PIPELINE), source());

    // Then
    expect(text).toContain(`      sources: {
        clickCounts: {
          stream: { shardCount: 1 },
          entry: path.join(__dirname, '..', 'functions', 'click-counts.ts'),
          environment: { TABLE_NAME: '<table-name>' },
        },
        clicks: {`);
  });

  it('leaves the stream name to CloudFormation, so a retained stream never blocks a redeploy', () => {
    // When
    const { entry } = wireSource(stackFile(PIPELINE), source());

    // Then
    expect(entry).toContain('  stream: { shardCount: 1 },');
    expect(entry).not.toContain('streamName');
  });

  it('writes the entry from the project root in an ES module project', () => {
    // When
    const { entry } = wireSource(stackFile(PIPELINE, { esm: true }), source());

    // Then
    expect(entry).toContain("  entry: 'functions/click-counts.ts',");
  });

  it("adds Duration to the stack's aws-cdk-lib import for a windowed source", () => {
    // When
    const { text } = wireSource(stackFile(PIPELINE), source({ window: true }));

    // Then
    expect(text).toContain("import { Duration, Stack } from 'aws-cdk-lib';");
    expect(text).toContain('tumblingWindow: Duration.minutes(5),');
  });

  it('gives a source with stateful jobs state: true', () => {
    // When
    const { entry } = wireSource(stackFile(PIPELINE), source({ state: true }));

    // Then
    expect(entry).toContain('\n  state: true,\n');
  });

  it('leaves state out for a stateless source', () => {
    // When
    const { entry } = wireSource(stackFile(PIPELINE), source());

    // Then
    expect(entry).not.toContain('state');
  });

  it('uses the namespace the stack imports aws-cdk-lib/core as', () => {
    // Given
    const stack = PIPELINE.replace(
      "import { Stack } from 'aws-cdk-lib';",
      "import * as cdk from 'aws-cdk-lib/core';",
    );

    // When
    const { text } = wireSource(stackFile(stack), source({ window: true }));

    // Then
    expect(text).toContain('tumblingWindow: cdk.Duration.minutes(5),');
    expect(text).not.toContain('import { Duration }');
  });

  it('ignores a MicroBatchPipeline in a comment', () => {
    // Given
    const stack = `/**\n * new MicroBatchPipeline(this, 'Doc', { sources: {} })\n */\n${PIPELINE}`;

    // When
    const { text } = wireSource(stackFile(stack), source());

    // Then
    expect(text.indexOf('clickCounts:')).toBeGreaterThan(text.indexOf("'P'"));
  });

  it.each([
    [
      'no pipeline',
      'export class AppStack {}\n',
      'lib/app-stack.ts has no new MicroBatchPipeline(...)',
    ],
    [
      'two pipelines',
      `${PIPELINE}\nnew MicroBatchPipeline(this, 'Q', { sources: {} });\n`,
      'lib/app-stack.ts declares 2 MicroBatchPipelines: add the source by hand',
    ],
    [
      'sources from a variable',
      PIPELINE.replace(/sources: \{[\s\S]*?\n {6}\},/, 'sources,'),
      "lib/app-stack.ts: the MicroBatchPipeline's sources is not an object literal: add the source by hand",
    ],
    [
      'the key taken',
      PIPELINE.replace('clicks: {', 'clickCounts: {'),
      'lib/app-stack.ts already has a source named clickCounts',
    ],
  ])('fails if the stack has %s', (_, stack, message) => {
    // When / Then
    expect(() => wireSource(stackFile(stack), source())).toThrow(message);
  });
});
