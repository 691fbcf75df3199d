import { fail } from '../cli-error';
import { seededRandom as random } from '../seeded-random';
import type { RecordGenerator } from './record-generator';

/** A JSON Schema, as far as the generator reads it. */
type JsonSchema = {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly exclusiveMaximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly format?: string;
  readonly pattern?: string;
};

/** What a Standard Schema validator offers: `validate`, and with Standard JSON Schema, `jsonSchema`. */
interface StandardProps {
  readonly validate?: (value: unknown) => unknown;
  readonly jsonSchema?: { readonly input?: (options: { target: string }) => unknown };
}

const WORDS = ['alpha', 'bravo', 'delta', 'echo', 'kilo', 'lima', 'oscar', 'sierra', 'tango'];

/**
 * A value of `schema` (draft 2020-12, the subset validators emit for plain data: types, enum,
 * const, unions, bounds, lengths and the formats date-time, date, email, uuid). A schema outside
 * it, such as a string `pattern` without a known format, fails with exit 2 naming `path`: a
 * guess would only be rejected by the handler.
 */
export function sampleOf(schema: JsonSchema, next: () => number, path = 'data'): unknown {
  if ('const' in schema) return schema.const;
  if (schema.enum) return schema.enum[Math.floor(next() * schema.enum.length)];
  const union = schema.anyOf ?? schema.oneOf;
  if (union && union.length > 0)
    return sampleOf(union[Math.floor(next() * union.length)] as JsonSchema, next, path);
  if (schema.allOf && schema.allOf.length === 1)
    return sampleOf(schema.allOf[0] as JsonSchema, next, path);
  const types = typeof schema.type === 'string' ? [schema.type] : (schema.type ?? []);
  const type = types.filter((t) => t !== 'null')[0] ?? types[0];
  switch (type) {
    case 'object': {
      const value: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [key, property] of Object.entries(schema.properties ?? {})) {
        // Optional fields appear in about half the records, so both shapes are exercised.
        if (required.has(key) || next() < 0.5)
          value[key] = sampleOf(property, next, `${path}.${key}`);
      }
      return value;
    }
    case 'array': {
      const min = schema.minItems ?? 0;
      const max = Math.max(min, Math.min(schema.maxItems ?? min + 3, min + 3));
      const length = min + Math.floor(next() * (max - min + 1));
      return Array.from({ length }, (_, i) => sampleOf(schema.items ?? {}, next, `${path}[${i}]`));
    }
    case 'integer':
    case 'number': {
      const bottom =
        schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? 0);
      const highest =
        schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : schema.maximum;
      // Numbers of a thousand or so, inside the range however wide it is (zod's int() spans
      // ±2^53): from 0 when the range holds it, else from its end nearest 0.
      const low = Math.max(
        bottom,
        Math.min(0, highest ?? 0) - (highest !== undefined && highest < 0 ? 1000 : 0),
      );
      const high = Math.min(highest ?? low + 1000, low + 1000);
      if (type === 'number') return low + next() * (high - low);
      const lowest = Math.ceil(low);
      return lowest + Math.floor(next() * (Math.floor(high) - lowest + 1));
    }
    case 'boolean':
      return next() < 0.5;
    case 'null':
      return null;
    case 'string':
      return stringOf(schema, next, path);
    default:
      return fail(
        `cannot generate ${path}: its schema has no type this generator knows (${JSON.stringify(schema).slice(0, 80)})`,
      );
  }
}

function stringOf(schema: JsonSchema, next: () => number, path: string): string {
  const time = new Date(Date.UTC(2026, 0, 1) + Math.floor(next() * 365 * 86_400_000));
  switch (schema.format) {
    case 'date-time':
      return time.toISOString();
    case 'date':
      return time.toISOString().slice(0, 10);
    case 'email':
      return `${WORDS[Math.floor(next() * WORDS.length)]}${Math.floor(next() * 1000)}@example.com`;
    case 'uuid': {
      const hex = Array.from({ length: 32 }, () => Math.floor(next() * 16).toString(16)).join('');
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
    }
    default:
      break;
  }
  if (schema.pattern !== undefined)
    fail(
      `cannot generate ${path}: strings matching ${schema.pattern} (use --generate with a function of your own)`,
    );
  const min = schema.minLength ?? 1;
  const max = Math.max(min, schema.maxLength ?? Math.max(min, 12));
  let text = `${WORDS[Math.floor(next() * WORDS.length)]}-${Math.floor(next() * 1000)}`;
  while (text.length < min) text += WORDS[Math.floor(next() * WORDS.length)];
  return text.slice(0, max);
}

/** The Standard Schema props of `value`, when it is a validator. */
function standardOf(value: unknown): StandardProps | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null)
    return undefined;
  const props = (value as { '~standard'?: unknown })['~standard'];
  return typeof props === 'object' && props !== null ? (props as StandardProps) : undefined;
}

/** Whether `value` is a validator or a JSON Schema a generator can be derived from. */
export function isSchema(value: unknown): boolean {
  if (standardOf(value)) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    ('type' in value || 'anyOf' in value || 'properties' in value)
  );
}

/** Tries a validator (sync or async Standard Schema `validate`): the first issue, if any. */
async function issueOf(props: StandardProps, value: unknown): Promise<string | undefined> {
  const result = (await props.validate?.(value)) as
    | { issues?: readonly { message: string; path?: readonly unknown[] }[] }
    | undefined;
  const issue = result?.issues?.[0];
  if (!issue) return undefined;
  const where = (issue.path ?? [])
    .map((p) =>
      typeof p === 'object' && p !== null ? String((p as { key: unknown }).key) : String(p),
    )
    .join('.');
  return `${where ? `${where}: ` : ''}${issue.message}`;
}

/**
 * A record generator derived from a schema: a Standard Schema validator that also offers Standard
 * JSON Schema (`~standard.jsonSchema`, as zod 4 schemas do), or a JSON Schema object (for a
 * zod/mini schema, `export const Views = z.toJSONSchema(View)`). The n-th record is drawn from the
 * JSON Schema with a generator seeded by n, and checked by the validator when one is given: a
 * value it rejects (a refinement JSON Schema cannot express) stops the command with exit 2 and the
 * validator's message, rather than sending records the handler would dead-letter.
 */
export function schemaGenerator(schema: unknown, name: string): RecordGenerator {
  const props = standardOf(schema);
  let json: JsonSchema;
  if (props) {
    const input = props.jsonSchema?.input;
    if (typeof input !== 'function')
      fail(
        `${name} is a validator without a JSON Schema (Standard JSON Schema ~standard.jsonSchema; zod/mini schemas have none): export z.toJSONSchema(schema), or a generator function`,
      );
    try {
      json = input({ target: 'draft-2020-12' }) as JsonSchema;
    } catch (error) {
      fail(`${name} cannot be turned into a JSON Schema: ${(error as Error).message}`);
    }
  } else {
    json = schema as JsonSchema;
  }
  return async function generateFromSchema(index: number): Promise<unknown> {
    const value = sampleOf(json, random(index + 1));
    if (props) {
      const issue = await issueOf(props, value);
      if (issue !== undefined)
        fail(
          `record ${index} generated from ${name} fails its own validator (${issue}): a refinement its JSON Schema does not carry; use --generate with a function`,
        );
    }
    return value;
  };
}
