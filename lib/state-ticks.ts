import type { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** Props of {@link StateTicks}. */
export interface StateTicksProps {
  /** The function's `live` alias: ticks follow it, so a deploy shifts them with the traffic. */
  readonly alias: lambda.IAlias;
  /** The source name the ticks carry (`DRIVERLESS_SOURCE`). */
  readonly source: string;
  /** Whole minutes, validated with the pipeline's props. */
  readonly interval: Duration;
}

/**
 * Invokes a stateful function on a fixed rate with the tick event the runtime recognizes
 * (docs/state.md): `{ driverless: 'tick', source, time }`, `time` being the scheduled event's
 * time, ISO-8601. Ticks close windows and time out joins while the stream is quiet: Lambda invokes a stream function only when records arrive.
 *
 * An EventBridge rule, rather than an EventBridge Scheduler schedule: scheduled rules are free and
 * invoke Lambda through a resource policy scoped to the rule, where Scheduler needs an IAM role
 * per schedule and is billed past its free tier; neither goes below one minute.
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
export class StateTicks extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: StateTicksProps) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: `Ticks ${props.source}'s stateful jobs (quiet streams)`,
      schedule: events.Schedule.rate(props.interval),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(props.alias, {
        event: events.RuleTargetInput.fromObject({
          driverless: 'tick',
          source: props.source,
          time: events.EventField.time,
        }),
        // A tick that cannot be delivered before the next one is due is replaced by it.
        maxEventAge: props.interval,
        retryAttempts: 2,
      }),
    );
  }
}
