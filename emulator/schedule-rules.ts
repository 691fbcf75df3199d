import {
  parseFunctionReference,
  TemplateError,
  type TemplateResolver,
  type TemplateResource,
} from './intrinsics';
import type { LocalApp, LocalSchedule, ScheduleTarget, ScheduleTargetInput } from './model';

/**
 * AWS::Events::Rule read for the embedded stack: an enabled rule with a `rate(...)` schedule whose
 * targets are functions run locally. Anything else is reported as skipped, as an unknown type is.
 */
export type ScheduleRead =
  | { kind: 'schedule'; schedule: LocalSchedule; skippedTargets: string[] }
  | { kind: 'skipped'; type: string };

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/**
 * `rate(5 minutes)` in milliseconds, or undefined for anything else (cron expressions). AWS takes
 * a positive whole number and the singular unit only for 1.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-rate-expressions
 */
export function rateMs(expression: string): number | undefined {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2] as string;
  if (value < 1 || (value === 1) !== !unit.endsWith('s')) return undefined;
  return value * (UNIT_MS[unit] as number);
}

interface RuleTargetProps {
  Id?: string;
  Arn?: string;
  Input?: string;
  InputPath?: string;
  InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate?: string };
}

export function readScheduleRule(
  logicalId: string,
  resource: TemplateResource,
  resolver: TemplateResolver,
  app: LocalApp,
): ScheduleRead {
  const props = resolver.resolve(resource.Properties ?? {}, `${logicalId}.Properties`) as {
    ScheduleExpression?: string;
    State?: string;
    Targets?: RuleTargetProps[];
  };
  if (props.ScheduleExpression === undefined) {
    return { kind: 'skipped', type: 'AWS::Events::Rule (event pattern)' };
  }
  const rate = rateMs(props.ScheduleExpression);
  if (rate === undefined) return { kind: 'skipped', type: 'AWS::Events::Rule (cron schedule)' };
  // CloudFormation creates a rule ENABLED unless told otherwise.
  if (props.State !== undefined && props.State !== 'ENABLED') {
    return { kind: 'skipped', type: `AWS::Events::Rule (${props.State})` };
  }
  const targets: ScheduleTarget[] = [];
  const skippedTargets: string[] = [];
  for (const target of props.Targets ?? []) {
    const arn = String(target.Arn ?? '');
    const { functionName, qualifier } = parseFunctionReference(arn);
    if (arn.split(':')[2] !== 'lambda' || !app.functions.some((f) => f.name === functionName)) {
      skippedTargets.push(`AWS::Events::Rule target (${arn.split(':')[2] ?? 'unknown'})`);
      continue;
    }
    targets.push({
      id: String(target.Id ?? functionName),
      functionName,
      ...(qualifier === undefined ? {} : { qualifier }),
      input: targetInput(
        target,
        `${logicalId}.Properties.Targets[${targets.length + skippedTargets.length}]`,
      ),
    });
  }
  if (targets.length === 0) {
    return { kind: 'skipped', type: 'AWS::Events::Rule (no target run locally)' };
  }
  const { name, attributes } = resolver.identity(logicalId);
  return {
    kind: 'schedule',
    schedule: { logicalId, name, arn: attributes.Arn ?? '', rateMs: rate, targets },
    skippedTargets,
  };
}

function targetInput(target: RuleTargetProps, at: string): ScheduleTargetInput {
  if (target.Input !== undefined) {
    try {
      return { kind: 'constant', value: JSON.parse(target.Input) };
    } catch {
      throw new TemplateError(`${at}.Input must be JSON (given ${target.Input})`);
    }
  }
  if (target.InputPath !== undefined) return { kind: 'path', path: target.InputPath };
  if (target.InputTransformer?.InputTemplate !== undefined) {
    return {
      kind: 'transformer',
      paths: target.InputTransformer.InputPathsMap ?? {},
      template: target.InputTransformer.InputTemplate,
    };
  }
  return { kind: 'event' };
}
