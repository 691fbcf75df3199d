import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findPipelineStack } from '../../../cli/new/find-stack';

const PIPELINE =
  "import { MicroBatchPipeline } from 'driverless';\nnew MicroBatchPipeline(this, 'P', { sources: {} });\n";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'find-stack-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
}

describe('findPipelineStack', () => {
  it("follows cdk.json's app through its imports, NodeNext .js specifiers included", () => {
    // Given: another pipeline file that the app does not import
    write({
      'cdk.json': JSON.stringify({ app: 'npx tsc && npx tsx bin/app.ts' }),
      'bin/app.ts': "import { AppStack } from '../stacks/app.js';\n",
      'stacks/app.ts': "export * from './pipeline';\n",
      'stacks/pipeline/index.ts': PIPELINE,
      'lib/unused.ts': PIPELINE,
    });

    // When
    const stack = findPipelineStack(root);

    // Then
    expect(stack).toBe(join(root, 'stacks', 'pipeline', 'index.ts'));
  });

  it('looks in lib/ without a cdk.json, skipping tests', () => {
    // Given
    write({ 'lib/app-stack.ts': PIPELINE, 'lib/app-stack.test.ts': PIPELINE });

    // When / Then
    expect(findPipelineStack(root)).toBe(join(root, 'lib', 'app-stack.ts'));
  });

  it('takes --stack as given', () => {
    // Given
    write({ 'lib/a.ts': PIPELINE, 'lib/b.ts': PIPELINE });

    // When / Then
    expect(findPipelineStack(root, 'lib/b.ts')).toBe(join(root, 'lib', 'b.ts'));
  });

  it('fails if several files declare a pipeline, naming them', () => {
    // Given
    write({ 'lib/a.ts': PIPELINE, 'lib/b.ts': PIPELINE });

    // When / Then
    expect(() => findPipelineStack(root)).toThrow(
      'several files declare a MicroBatchPipeline (lib/a.ts, lib/b.ts): pass --stack <file>',
    );
  });

  it('fails if --stack names no file', () => {
    // When / Then
    expect(() => findPipelineStack(root, 'lib/none.ts')).toThrow(
      '--stack lib/none.ts: no such file',
    );
  });
});
