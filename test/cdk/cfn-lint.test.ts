import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import {
  type CfnLintMatch,
  cfnLint,
  cfnLintVersion,
  describeMatch,
  SKIP_CFN_LINT_VARIABLE,
} from './support/cfn-lint';
import {
  MAX_RESOURCES_PER_STACK,
  RESOURCES_PER_SOURCE,
  VARIANT_APPS,
} from './support/variant-apps';

/**
 * Warnings we accept, each with why; every other finding fails the test. A rule is matched
 * together with the message, so a new finding of the same rule still fails.
 */
const ACKNOWLEDGED_WARNINGS: ReadonlyArray<{ rule: string; message: RegExp; reason: string }> = [
  {
    rule: 'W3005',
    message:
      /^'\w+Role[0-9A-F]{8}' dependency already enforced by a 'GetAtt' at 'Resources\/\w+Function[0-9A-F]{8}\/Properties\/Role'$/,
    reason:
      "aws-cdk's Function adds DependsOn its role beside the Fn::GetAtt of the role's ARN; the order is the same either way.",
  },
];

/** A template CloudFormation refuses: the cycle the alarms once closed through the alias. */
const CYCLIC_TEMPLATE = {
  Resources: {
    Alias: {
      Type: 'AWS::Lambda::Alias',
      Properties: { FunctionName: 'f', FunctionVersion: '1', Name: 'live' },
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: 'a',
          DeploymentGroupName: { Ref: 'Group' },
        },
      },
    },
    Group: {
      Type: 'AWS::CodeDeploy::DeploymentGroup',
      Properties: {
        ApplicationName: 'a',
        ServiceRoleArn: 'arn:aws:iam::111122223333:role/r',
        AlarmConfiguration: { Enabled: true, Alarms: [{ Name: { Ref: 'Alarm' } }] },
      },
    },
    Alarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: { Ref: 'Alias' },
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Period: 60,
        Statistic: 'Sum',
        Threshold: 0,
      },
    },
  },
};

const version = cfnLintVersion();

interface Synthesized {
  readonly variant: string;
  readonly stack: string;
  readonly file: string;
  readonly resources: number;
}

let outdir: string;
let synthesized: Synthesized[];
let findings: Map<string, CfnLintMatch[]>;
let cyclicFile: string;
/** Stops cfn-lint if the suite ends first (a timeout), so no process outlives it. */
const linting = new AbortController();

/**
 * Synthesis of every variant and cfn-lint over ~1 MB of templates take about a minute of CPU;
 * the limit leaves room for a CI machine that runs the other test projects at the same time.
 */
const SYNTH_AND_LINT_TIMEOUT_MS = 15 * 60_000;

beforeAll(async () => {
  if ('missing' in version) return;
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'driverless-cfn-lint-'));
  synthesized = VARIANT_APPS.flatMap((variant, i) => {
    const app = new App({ outdir: path.join(outdir, `variant-${i}`) });
    variant.build(app);
    return app.synth().stacks.map((stack) => ({
      variant: variant.name,
      stack: stack.stackName,
      file: stack.templateFullPath,
      resources: Object.keys(stack.template.Resources ?? {}).length,
    }));
  });
  cyclicFile = path.join(outdir, 'cyclic.template.json');
  fs.writeFileSync(cyclicFile, JSON.stringify(CYCLIC_TEMPLATE));
  findings = new Map();
  for (const match of await cfnLint([...synthesized.map((s) => s.file), cyclicFile], {
    signal: linting.signal,
  })) {
    const file = path.resolve(match.Filename);
    findings.set(file, [...(findings.get(file) ?? []), match]);
  }
}, SYNTH_AND_LINT_TIMEOUT_MS);

afterAll(() => {
  linting.abort();
  if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
});

/** Findings of `file` that are neither informational nor acknowledged. */
function unacknowledged(file: string): string[] {
  return (findings.get(path.resolve(file)) ?? [])
    .filter((m) => m.Level !== 'Informational')
    .filter(
      (m) =>
        !(
          m.Level === 'Warning' &&
          ACKNOWLEDGED_WARNINGS.some((a) => a.rule === m.Rule.Id && a.message.test(m.Message))
        ),
    )
    .map(describeMatch);
}

if ('missing' in version) {
  if (process.env[SKIP_CFN_LINT_VARIABLE] === '1') {
    // biome-ignore lint/suspicious/noSkippedTests: an explicit opt-out, shown as skipped with its reason rather than passing
    test.skip(`cfn-lint checks skipped: ${SKIP_CFN_LINT_VARIABLE}=1 and cfn-lint cannot run (${version.missing})`, () => {});
  } else {
    test('finds cfn-lint', () => {
      throw new Error(
        `cfn-lint cannot run (${version.missing}), so no template was checked for deployability. ` +
          'Install it (`pip install cfn-lint`; CI has 1.51), ' +
          `or set ${SKIP_CFN_LINT_VARIABLE}=1 to skip these checks on this machine.`,
      );
    });
  }
} else {
  describe(`cfn-lint (${version.version}) on every template the tests synthesize`, () => {
    test('has variants for the example app and every combination of props', () => {
      // then
      expect(synthesized.map((s) => s.variant)).toEqual(
        expect.arrayContaining(VARIANT_APPS.map((v) => v.name)),
      );
    });

    test.each(VARIANT_APPS.map((v) => v.name))(
      'finds no error and no unacknowledged warning in: %s',
      (variant) => {
        // given
        const stacks = synthesized.filter((s) => s.variant === variant);
        // when
        const problems = stacks.flatMap((s) =>
          unacknowledged(s.file).map((p) => `${s.stack}: ${p}`),
        );
        // then
        expect(stacks.length).toBeGreaterThan(0);
        expect(problems).toStrictEqual([]);
      },
    );

    test('would fail a template with a reference cycle', () => {
      // then: the gate is not vacuous
      expect(unacknowledged(cyclicFile)).toEqual(
        expect.arrayContaining([expect.stringMatching(/^E3004 /)]),
      );
    });

    test('lints a pipeline within one source of the resource limit of a stack', () => {
      // when
      const largest = synthesized.filter((s) => s.variant.startsWith('the largest pipeline'));
      // then
      expect(largest).toHaveLength(1);
      expect(largest[0]!.resources).toBeGreaterThan(MAX_RESOURCES_PER_STACK - RESOURCES_PER_SOURCE);
      expect(largest[0]!.resources).toBeLessThanOrEqual(MAX_RESOURCES_PER_STACK);
    });
  });
}
