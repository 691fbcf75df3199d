import { createHash } from 'node:crypto';

/**
 * What a CloudFormation template's expressions evaluate to on the embedded stack: `Ref`,
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::If` and friends, pseudo
 * parameters, and the physical names, ARNs and URLs of resources. Names and ARNs are shaped like
 * AWS's; queue URLs point at the local SQS server, so the values work against the emulators.
 * @see https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
 */

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
}

export interface TemplateParameter {
  Type: string;
  Default?: unknown;
}

export interface Template {
  Resources: Record<string, TemplateResource>;
  Parameters?: Record<string, TemplateParameter>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface ResolverEnvironment {
  stackName: string;
  region: string;
  accountId: string;
  /** Base URL of the SQS server; queue URLs are `<sqsEndpoint>/<accountId>/<queueName>`. */
  sqsEndpoint: string;
  /** Values for template parameters (over their `Default`). */
  parameters?: Record<string, string>;
}

/** A template error, naming where in the template it happened. */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** `Ref: AWS::NoValue`: the enclosing property or list element is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

/**
 * Creation time put in consumer ARNs before a server registers them (`…/consumer/<name>:<epoch>`).
 * Fixed so that the model is deterministic; provisioning replaces it with the server's ARN where
 * the engine registers consumers.
 */
export const LOCAL_CONSUMER_EPOCH = 1_700_000_000;

/** Ref value and `Fn::GetAtt` attributes of one resource. */
export interface ResourceIdentity {
  /** Physical name (or id) of the resource. */
  name: string;
  ref: string;
  attributes: Record<string, string>;
}

export interface TemplateResolver {
  /** Resolves every intrinsic in `value`, removing `AWS::NoValue`; `path` names it in errors. */
  resolve(value: unknown, path: string): unknown;
  /** Resolves `value` and requires a string (numbers are converted, as CloudFormation does). */
  resolveString(value: unknown, path: string): string;
  identity(logicalId: string): ResourceIdentity;
  /** Whether a resource exists under the template's conditions. */
  isIncluded(logicalId: string): boolean;
  condition(name: string): boolean;
}

/**
 * A UUID derived from its parts (name-based, version 5 layout), so that re-reading the same
 * template gives the same mapping UUIDs.
 */
export function deterministicUuid(...parts: string[]): string {
  const hex = createHash('sha1').update(parts.join('\u0000')).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return [
    hex.slice(0, 8),
    hex.slice(8, 12),
    `5${hex.slice(13, 16)}`,
    `${variant}${hex.slice(18, 20)}`,
    hex.slice(20, 32),
  ].join('-');
}

interface NameRule {
  /** Property holding an explicit physical name. */
  property?: string;
  /** Characters outside this class become `-` in generated names. */
  invalid: RegExp;
  maxLength: number;
  lowercase: boolean;
}

const GENERIC_NAME: NameRule = { invalid: /[^a-zA-Z0-9_-]/g, maxLength: 128, lowercase: true };

/**
 * How each type is named when the template gives no name: `<stack>-<logicalId>`, lowercased and
 * restricted to what the service accepts (AWS appends a random suffix instead; locally the name
 * must be deterministic).
 */
const NAME_RULES: Record<string, NameRule> = {
  'AWS::Kinesis::Stream': {
    property: 'Name',
    invalid: /[^a-z0-9_.-]/g,
    maxLength: 128,
    lowercase: true,
  },
  'AWS::Kinesis::StreamConsumer': {
    property: 'ConsumerName',
    invalid: /[^a-z0-9_.-]/g,
    maxLength: 128,
    lowercase: true,
  },
  'AWS::DynamoDB::Table': {
    property: 'TableName',
    invalid: /[^a-z0-9_.-]/g,
    maxLength: 255,
    lowercase: true,
  },
  'AWS::DynamoDB::GlobalTable': {
    property: 'TableName',
    invalid: /[^a-z0-9_.-]/g,
    maxLength: 255,
    lowercase: true,
  },
  'AWS::SQS::Queue': {
    property: 'QueueName',
    invalid: /[^a-z0-9_-]/g,
    maxLength: 75,
    lowercase: true,
  },
  'AWS::S3::Bucket': {
    property: 'BucketName',
    invalid: /[^a-z0-9.-]/g,
    maxLength: 63,
    lowercase: true,
  },
  'AWS::SNS::Topic': {
    property: 'TopicName',
    invalid: /[^a-z0-9_-]/g,
    maxLength: 256,
    lowercase: true,
  },
  'AWS::Lambda::Function': {
    property: 'FunctionName',
    invalid: /[^a-z0-9_-]/g,
    maxLength: 64,
    lowercase: true,
  },
  'AWS::Events::Rule': {
    property: 'Name',
    invalid: /[^A-Za-z0-9_.-]/g,
    maxLength: 64,
    lowercase: false,
  },
  'AWS::IAM::Role': {
    property: 'RoleName',
    invalid: /[^a-z0-9_+=,.@-]/g,
    maxLength: 64,
    lowercase: true,
  },
  'AWS::Logs::LogGroup': {
    property: 'LogGroupName',
    invalid: /[^a-z0-9_/.#-]/g,
    maxLength: 512,
    lowercase: true,
  },
};

const PSEUDO_PARAMETERS = new Set([
  'AWS::Region',
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::URLSuffix',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
]);

/**
 * A Lambda `FunctionName` as templates write it: `name`, `name:qualifier`, or a function, alias or
 * version ARN (`arn:aws:lambda:<region>:<account>:function:name[:qualifier]`).
 */
export function parseFunctionReference(value: string): {
  functionName: string;
  qualifier?: string;
} {
  const parts = value.split(':');
  const [name, qualifier] = value.startsWith('arn:') ? [parts[6], parts[7]] : [parts[0], parts[1]];
  return { functionName: name ?? value, ...(qualifier ? { qualifier } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The single intrinsic key of `{ "Fn::X": … }` / `{ Ref: … }`, if `value` is one. */
function intrinsicOf(value: Record<string, unknown>): string | undefined {
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0] as string;
  return key === 'Ref' || key.startsWith('Fn::') ? key : undefined;
}

export function createTemplateResolver(
  template: Template,
  env: ResolverEnvironment,
): TemplateResolver {
  const partition = 'aws';
  const identities = new Map<string, ResourceIdentity>();
  const resolving = new Set<string>();
  const conditions = new Map<string, boolean>();

  const fail = (path: string, message: string): never => {
    throw new TemplateError(`${path}: ${message}`);
  };

  const resource = (logicalId: string, path: string): TemplateResource => {
    const found = template.Resources[logicalId];
    return found ?? fail(path, `unknown resource or parameter "${logicalId}"`);
  };

  const pseudo = (name: string): unknown => {
    switch (name) {
      case 'AWS::Region':
        return env.region;
      case 'AWS::AccountId':
        return env.accountId;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return env.stackName;
      case 'AWS::StackId':
        return `arn:${partition}:cloudformation:${env.region}:${env.accountId}:stack/${env.stackName}/${deterministicUuid(env.stackName)}`;
      case 'AWS::NotificationARNs':
        return [];
      default:
        return NO_VALUE;
    }
  };

  const parameter = (name: string, path: string): unknown => {
    const declared = template.Parameters?.[name];
    if (declared === undefined) return undefined;
    const value = env.parameters?.[name] ?? declared.Default;
    if (value === undefined)
      fail(path, `parameter "${name}" has no Default and no value was given`);
    if (declared.Type === 'CommaDelimitedList' || declared.Type.startsWith('List<')) {
      return String(value).split(',');
    }
    return value;
  };

  const ref = (name: string, path: string): unknown => {
    if (PSEUDO_PARAMETERS.has(name)) return pseudo(name);
    const fromParameter = parameter(name, path);
    if (fromParameter !== undefined) return fromParameter;
    return identity(name, path).ref;
  };

  const getAtt = (logicalId: string, attribute: string, path: string): string => {
    const found = identity(logicalId, path).attributes[attribute];
    if (found === undefined) {
      const type = resource(logicalId, path).Type;
      fail(path, `Fn::GetAtt ${logicalId}.${attribute} is not supported locally (${type})`);
    }
    return found as string;
  };

  const physicalName = (logicalId: string, res: TemplateResource, path: string): string => {
    const rule = NAME_RULES[res.Type] ?? GENERIC_NAME;
    const explicit = rule.property ? res.Properties?.[rule.property] : undefined;
    if (explicit !== undefined) {
      return resolveString(explicit, `${path}.Properties.${rule.property}`);
    }
    const base = `${env.stackName}-${logicalId}`;
    const cased = rule.lowercase ? base.toLowerCase() : base;
    const fifo = res.Type === 'AWS::SQS::Queue' && res.Properties?.FifoQueue === true;
    return cased.replace(rule.invalid, '-').slice(0, rule.maxLength) + (fifo ? '.fifo' : '');
  };

  const functionTarget = (value: string): { arn: string } => ({
    arn: `arn:${partition}:lambda:${env.region}:${env.accountId}:function:${parseFunctionReference(value).functionName}`,
  });

  const buildIdentity = (logicalId: string, path: string): ResourceIdentity => {
    const res = resource(logicalId, path);
    const at = `${logicalId}`;
    const prop = (key: string): unknown => res.Properties?.[key];
    const name = physicalName(logicalId, res, at);
    const { region, accountId } = env;
    const arnPrefix = (service: string): string =>
      `arn:${partition}:${service}:${region}:${accountId}`;
    switch (res.Type) {
      case 'AWS::Kinesis::Stream': {
        const arn = `${arnPrefix('kinesis')}:stream/${name}`;
        return { name, ref: name, attributes: { Arn: arn } };
      }
      case 'AWS::Kinesis::StreamConsumer': {
        const streamArn = resolveString(prop('StreamARN'), `${at}.Properties.StreamARN`);
        const arn = `${streamArn}/consumer/${name}:${LOCAL_CONSUMER_EPOCH}`;
        return {
          name,
          ref: arn,
          attributes: {
            ConsumerARN: arn,
            ConsumerName: name,
            StreamARN: streamArn,
            ConsumerStatus: 'ACTIVE',
            ConsumerCreationTimestamp: String(LOCAL_CONSUMER_EPOCH),
          },
        };
      }
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable': {
        const arn = `${arnPrefix('dynamodb')}:table/${name}`;
        return {
          name,
          ref: name,
          attributes: {
            Arn: arn,
            StreamArn: `${arn}/stream/1970-01-01T00:00:00.000`,
            TableId: deterministicUuid(env.stackName, logicalId),
          },
        };
      }
      case 'AWS::SQS::Queue': {
        const url = `${env.sqsEndpoint}/${accountId}/${name}`;
        const arn = `${arnPrefix('sqs')}:${name}`;
        return { name, ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } };
      }
      case 'AWS::S3::Bucket':
        return {
          name,
          ref: name,
          attributes: {
            Arn: `arn:${partition}:s3:::${name}`,
            DomainName: `${name}.s3.amazonaws.com`,
            RegionalDomainName: `${name}.s3.${region}.amazonaws.com`,
            DualStackDomainName: `${name}.s3.dualstack.${region}.amazonaws.com`,
            WebsiteURL: `http://${name}.s3-website-${region}.amazonaws.com`,
          },
        };
      case 'AWS::SNS::Topic': {
        const arn = `${arnPrefix('sns')}:${name}`;
        return { name, ref: arn, attributes: { TopicArn: arn, TopicName: name } };
      }
      case 'AWS::Lambda::Function':
        return { name, ref: name, attributes: { Arn: `${arnPrefix('lambda')}:function:${name}` } };
      case 'AWS::Lambda::Alias': {
        const aliasName = resolveString(prop('Name'), `${at}.Properties.Name`);
        const target = functionTarget(
          resolveString(prop('FunctionName'), `${at}.Properties.FunctionName`),
        );
        const arn = `${target.arn}:${aliasName}`;
        return { name: aliasName, ref: arn, attributes: { AliasArn: arn } };
      }
      case 'AWS::Lambda::Version': {
        const target = functionTarget(
          resolveString(prop('FunctionName'), `${at}.Properties.FunctionName`),
        );
        const version = String(versionNumber(logicalId, target.arn));
        const arn = `${target.arn}:${version}`;
        return {
          name: version,
          ref: arn,
          attributes: { Version: version, FunctionArn: target.arn },
        };
      }
      case 'AWS::Lambda::EventSourceMapping': {
        const uuid = deterministicUuid(env.stackName, logicalId);
        return {
          name: uuid,
          ref: uuid,
          attributes: {
            Id: uuid,
            EventSourceMappingArn: `${arnPrefix('lambda')}:event-source-mapping:${uuid}`,
          },
        };
      }
      case 'AWS::Events::Rule': {
        const arn = `${arnPrefix('events')}:rule/${name}`;
        return { name, ref: name, attributes: { Arn: arn } };
      }
      case 'AWS::IAM::Role':
        return {
          name,
          ref: name,
          attributes: {
            Arn: `arn:${partition}:iam::${accountId}:role/${name}`,
            RoleId: deterministicUuid(env.stackName, logicalId),
          },
        };
      case 'AWS::KMS::Key': {
        const keyId = deterministicUuid(env.stackName, logicalId);
        return {
          name: keyId,
          ref: keyId,
          attributes: { Arn: `${arnPrefix('kms')}:key/${keyId}`, KeyId: keyId },
        };
      }
      case 'AWS::Logs::LogGroup':
        return { name, ref: name, attributes: { Arn: `${arnPrefix('logs')}:log-group:${name}:*` } };
      default: {
        // Resources the embedded stack does not run still get a name and an ARN-shaped value,
        // so that an environment variable naming one does not stop the app from loading.
        const service = res.Type.split('::')[1]?.toLowerCase() ?? 'unknown';
        return { name, ref: name, attributes: { Arn: `${arnPrefix(service)}:${name}` } };
      }
    }
  };

  /** Versions are numbered 1, 2, … per function, in template order (as publishing would). */
  const versionNumber = (logicalId: string, functionArn: string): number => {
    let number = 0;
    for (const [id, res] of Object.entries(template.Resources)) {
      if (res.Type !== 'AWS::Lambda::Version' || !isIncluded(id)) continue;
      const target = functionTarget(
        resolveString(res.Properties?.FunctionName, `${id}.Properties.FunctionName`),
      );
      if (target.arn === functionArn) number++;
      if (id === logicalId) return number;
    }
    return number;
  };

  const identity = (logicalId: string, path = logicalId): ResourceIdentity => {
    const known = identities.get(logicalId);
    if (known) return known;
    if (resolving.has(logicalId)) fail(path, `circular reference through "${logicalId}"`);
    resolving.add(logicalId);
    try {
      const built = buildIdentity(logicalId, path);
      identities.set(logicalId, built);
      return built;
    } finally {
      resolving.delete(logicalId);
    }
  };

  const condition = (name: string, path = `Conditions.${name}`): boolean => {
    const known = conditions.get(name);
    if (known !== undefined) return known;
    const definition = template.Conditions?.[name];
    if (definition === undefined) fail(path, `unknown condition "${name}"`);
    const value = evaluateCondition(definition, `Conditions.${name}`);
    conditions.set(name, value);
    return value;
  };

  const evaluateCondition = (value: unknown, path: string): boolean => {
    if (typeof value === 'boolean') return value;
    if (!isRecord(value))
      return fail(path, `a condition must be an object (given ${JSON.stringify(value)})`);
    const [key, args] = Object.entries(value)[0] ?? [];
    const list = Array.isArray(args) ? args : [];
    switch (key) {
      case 'Condition':
        return condition(String(args), path);
      case 'Fn::Equals': {
        const [a, b] = list.map((arg, i) => resolve(arg, `${path}.Fn::Equals[${i}]`));
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::And':
        return list.every((arg, i) => evaluateCondition(arg, `${path}.Fn::And[${i}]`));
      case 'Fn::Or':
        return list.some((arg, i) => evaluateCondition(arg, `${path}.Fn::Or[${i}]`));
      case 'Fn::Not':
        return !evaluateCondition(list[0], `${path}.Fn::Not`);
      default:
        return fail(path, `unsupported condition function ${String(key)}`);
    }
  };

  const isIncluded = (logicalId: string): boolean => {
    const name = template.Resources[logicalId]?.Condition;
    return name === undefined || condition(name, `${logicalId}.Condition`);
  };

  const sub = (args: unknown, path: string): string => {
    const [text, variables] = Array.isArray(args) ? args : [args, {}];
    if (typeof text !== 'string') return fail(path, 'Fn::Sub needs a string');
    const resolvedVariables = isRecord(variables) ? variables : {};
    return text.replace(/\$\{([^}]*)\}/g, (_match, expression: string) => {
      // `${!Literal}` writes `${Literal}` (escaping).
      if (expression.startsWith('!')) return `\${${expression.slice(1)}}`;
      const name = expression.trim();
      if (name in resolvedVariables) {
        return resolveString(resolvedVariables[name], `${path}.${name}`);
      }
      const dot = name.indexOf('.');
      if (dot > 0 && !PSEUDO_PARAMETERS.has(name)) {
        return getAtt(name.slice(0, dot), name.slice(dot + 1), path);
      }
      return stringOf(ref(name, path), path);
    });
  };

  const callIntrinsic = (key: string, args: unknown, path: string): unknown => {
    const at = `${path}.${key}`;
    const list = (): unknown[] =>
      Array.isArray(args) ? args : fail(at, `expects a list (given ${JSON.stringify(args)})`);
    switch (key) {
      case 'Ref':
        return ref(String(args), at);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof args === 'string'
            ? [args.slice(0, args.indexOf('.')), args.slice(args.indexOf('.') + 1)]
            : list();
        return getAtt(String(logicalId), resolveString(attribute, at), at);
      }
      case 'Fn::Join': {
        const [delimiter, values] = list();
        const items = resolve(values, at);
        if (!Array.isArray(items)) return fail(at, 'Fn::Join needs a list of values');
        return items.map((item, i) => stringOf(item, `${at}[${i}]`)).join(String(delimiter));
      }
      case 'Fn::Sub':
        return sub(args, at);
      case 'Fn::Select': {
        const [index, values] = list();
        const items = resolve(values, at);
        const i = Number(resolve(index, at));
        if (!Array.isArray(items)) return fail(at, 'Fn::Select needs a list');
        if (!Number.isInteger(i) || i < 0 || i >= items.length) {
          return fail(at, `index ${String(index)} is out of range for ${items.length} items`);
        }
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, source] = list();
        return resolveString(source, at).split(String(delimiter));
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = list();
        return resolve(condition(String(name), at) ? whenTrue : whenFalse, at);
      }
      case 'Fn::Equals':
      case 'Fn::And':
      case 'Fn::Or':
      case 'Fn::Not':
        return evaluateCondition({ [key]: args }, path);
      case 'Fn::Base64':
        return Buffer.from(resolveString(args, at)).toString('base64');
      case 'Fn::GetAZs': {
        const region = resolveString(args, at) || env.region;
        return [`${region}a`, `${region}b`, `${region}c`];
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = list().map((arg) => resolveString(arg, at));
        const found = template.Mappings?.[map ?? '']?.[top ?? '']?.[second ?? ''];
        return found === undefined
          ? fail(at, `no mapping ${map}.${top}.${second}`)
          : resolve(found, at);
      }
      case 'Fn::Length': {
        const items = resolve(args, at);
        return Array.isArray(items) ? items.length : fail(at, 'Fn::Length needs a list');
      }
      case 'Fn::ToJsonString':
        return JSON.stringify(resolve(args, at));
      case 'Fn::ImportValue':
        return fail(
          at,
          'cross-stack references (Fn::ImportValue) are not supported by the embedded stack',
        );
      default:
        return fail(at, `unsupported intrinsic function ${key}`);
    }
  };

  const stringOf = (value: unknown, path: string): string => {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return fail(path, `expected a string (got ${JSON.stringify(value) ?? String(value)})`);
  };

  const resolve = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) {
      return value
        .map((item, i) => resolve(item, `${path}[${i}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (!isRecord(value)) return value;
    const key = intrinsicOf(value);
    if (key !== undefined) return callIntrinsic(key, value[key], path);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const resolved = resolve(v, `${path}.${k}`);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  };

  const resolveString = (value: unknown, path: string): string =>
    stringOf(resolve(value, path), path);

  return {
    resolve,
    resolveString,
    identity: (id) => identity(id),
    isIncluded,
    condition: (n) => condition(n),
  };
}
