import { isUtf8 } from 'node:buffer';
import { DecodeError } from './errors';
import type { StandardSchemaV1 } from './standard-schema';

/**
 * A built-in decoder (`json`, `utf8`, `bytes`). It is an object rather than a function so that
 * TypeScript infers its type inline in `microBatch({ decode: json(schema), ... })`: a generic call
 * returning a function loses its inference next to context-sensitive callbacks (TypeScript#47599).
 */
export interface RecordDecoder<T> {
  /** Decodes a record's bytes; throws to dead-letter the record, with the message as reason. */
  readonly fromBytes: (bytes: Uint8Array) => T;
  /** Decodes from UTF-8 text the runtime already has, sparing a copy of every record's bytes. */
  readonly fromText?: (text: string) => T;
}

/** A built-in decoder, or your own function of the bytes (throw to dead-letter the record). */
export type Decoder<T> = RecordDecoder<T> | ((bytes: Uint8Array) => T);

function textDecoder<T>(fromText: (text: string) => T): RecordDecoder<T> {
  return { fromBytes: (bytes) => fromText(utf8Text(bytes)), fromText };
}

function utf8Text(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw new DecodeError('invalid UTF-8');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`invalid JSON: ${(error as Error).message}`);
  }
}

function describeIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): string {
  return issues
    .map((issue) => {
      const path = issue.path
        ?.map((segment) => String(typeof segment === 'object' ? segment.key : segment))
        .join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/**
 * Decodes UTF-8 JSON and, given a schema (zod, valibot, arktype: any Standard Schema), validates it.
 * Bad UTF-8, bad JSON and schema violations become dead letters with the reason.
 * Without a schema the value is not checked: `T` is the caller's promise.
 */
export function json<T = unknown>(): RecordDecoder<T>;
export function json<Schema extends StandardSchemaV1>(
  schema: Schema,
): RecordDecoder<StandardSchemaV1.InferOutput<Schema>>;
export function json(schema?: StandardSchemaV1): RecordDecoder<unknown> {
  if (schema === undefined) return textDecoder(parseJson);
  const validate = schema['~standard'].validate;
  return textDecoder((text) => {
    const result = validate(parseJson(text));
    if (result instanceof Promise) {
      throw new DecodeError('schema validation is asynchronous; decode needs a synchronous schema');
    }
    if (result.issues) throw new DecodeError(`schema: ${describeIssues(result.issues)}`);
    return result.value;
  });
}

/** Decodes UTF-8 text; bad UTF-8 becomes a dead letter. */
export function utf8(): RecordDecoder<string> {
  return textDecoder((text) => text);
}

/** Hands each record its raw bytes (a copy the job may keep). */
export function bytes(): RecordDecoder<Uint8Array> {
  return { fromBytes: (raw) => raw };
}
