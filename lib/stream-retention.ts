import { Duration, Token } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { isNewStream } from './concurrency-budget';
import { DEFAULTS, type ResolvedSourceProps } from './defaults';

/** What the pipeline can say about one source's time to redrive. */
export type RedriveWindowFinding =
  | { readonly severity: 'problem' | 'warning'; readonly message: string }
  | undefined;

/**
 * An on-failure queue receives a pointer to the records the mapping gave up on, not the records:
 * redrive reads them from the stream, so they must still be there. A record discarded for its age
 * is `maxRecordAge` old, which leaves retention minus `maxRecordAge` to redrive it
 * (docs/event-source-mapping.md#on-failure-delivery).
 *
 * A stream the pipeline creates fails the check (its retention is a prop of the source); a stream
 * it is given gets a warning, with its retention when this app defines it, or saying it is unknown.
 */
export function checkRedriveWindow(
  name: string,
  source: ResolvedSourceProps,
  redriveWindow: Duration,
): RedriveWindowFinding {
  const path = `sources.${name}`;
  const age = seconds(source.maxRecordAge);
  const window = seconds(redriveWindow);
  // Out-of-range values are reported by validation on their own.
  if (age === undefined || age < 60 || age > 604_800 || window === undefined) {
    return undefined;
  }
  const needed = Duration.seconds(age + window).toHumanString();
  const created = isNewStream(source.stream);
  const retention = created
    ? seconds(source.stream.retentionPeriod ?? DEFAULTS.stream.retentionPeriod)
    : definedRetentionSeconds(source.stream);
  if (!created && retention === undefined) {
    return {
      severity: 'warning',
      message:
        `${path}.stream: its retention is unknown to the pipeline; make sure it is at least maxRecordAge ` +
        `(${source.maxRecordAge.toHumanString()}) plus redriveWindow (${redriveWindow.toHumanString()}), ${needed}, ` +
        'or records the on-failure queue points at may be gone before they are redriven',
    };
  }
  if (retention === undefined || retention < 86_400 || retention > 8760 * 3600) return undefined;
  if (retention >= age + window) return undefined;

  const fixes = [
    created
      ? `raise ${path}.stream.retentionPeriod to ${needed}`
      : `raise the stream's retention to ${needed}`,
  ];
  if (retention - window >= 60) {
    fixes.push(
      `lower ${path}.maxRecordAge to ${Duration.seconds(retention - window).toHumanString()}`,
    );
  }
  fixes.push(
    'shorten redriveWindow',
    "or set onFailureDestination: 'bucket', which keeps the records themselves",
  );
  return {
    severity: created ? 'problem' : 'warning',
    message:
      `${path}: stream retention (${Duration.seconds(retention).toHumanString()}) must be at least maxRecordAge ` +
      `(${source.maxRecordAge.toHumanString()}) plus redriveWindow (${redriveWindow.toHumanString()}), ${needed}: ` +
      'the on-failure queue receives only a pointer, and redrive reads the records from the stream, ' +
      `which drops them at the end of retention; ${fixes.join(', ')}`,
  };
}

/** Retention of a stream defined in this app (`undefined` for an imported one or a token). */
function definedRetentionSeconds(stream: kinesis.IStream): number | undefined {
  if (!(stream instanceof kinesis.Stream)) return undefined;
  const cfn = stream.node.defaultChild;
  if (!(cfn instanceof kinesis.CfnStream)) return undefined;
  const hours = cfn.retentionPeriodHours;
  return typeof hours === 'number' && !Token.isUnresolved(hours) ? hours * 3600 : undefined;
}

function seconds(duration: Duration): number | undefined {
  return duration.isUnresolved() ? undefined : duration.toSeconds({ integral: false });
}
