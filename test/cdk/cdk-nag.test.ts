import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AwsSolutionsChecks } from 'cdk-nag';
import { MicroBatchPipeline } from '../../lib/micro-batch-pipeline';
import { retailStack, sourceProps } from './pipeline-fixtures';

interface Violation {
  readonly ruleName: string;
  readonly violatingConstructs: ReadonlyArray<{ readonly constructPath: string }>;
}

/**
 * Synthesizes `app` with the AwsSolutions pack and returns every unacknowledged finding,
 * warnings included (only errors would fail synthesis).
 */
function unacknowledgedFindings(app: App): string[] {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  const report = JSON.parse(
    fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  );
  return report.pluginReports.flatMap((plugin: { violations: Violation[] }) =>
    plugin.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`),
    ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  test('finds nothing unacknowledged in the retail stack', () => {
    // given
    const app = new App();
    retailStack(app);
    // when
    const findings = unacknowledgedFindings(app);
    // then
    expect(findings).toStrictEqual([]);
  });

  test('finds nothing unacknowledged with buckets, checkpoints and an isolated job', () => {
    // given
    const app = new App();
    new MicroBatchPipeline(new Stack(app, 'TestStack'), 'Test', {
      onFailureDestination: 'bucket',
      deadLetterDestination: 'bucket',
      checkpoints: true,
      sources: { events: sourceProps({ isolateJobs: ['slow'] }) },
    });
    // when
    const findings = unacknowledgedFindings(app);
    // then
    expect(findings).toStrictEqual([]);
  });

  test('finds nothing unacknowledged with a stream encrypted by a customer managed key', () => {
    // given
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const encryptionKey = new kms.Key(stack, 'StreamKey', { enableKeyRotation: true });
    new MicroBatchPipeline(stack, 'Test', {
      sources: {
        events: sourceProps({ stream: { shardCount: 1, encryptionKey }, isolateJobs: ['slow'] }),
      },
    });
    // when
    const findings = unacknowledgedFindings(app);
    // then
    expect(findings).toStrictEqual([]);
  });
});
