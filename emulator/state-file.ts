import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type ServiceEndpoints,
} from './clients';
import type { LocalApp } from './model';

/**
 * Where a running stack tells other tools how to reach it, relative to the project directory:
 * `npm start` writes it there, and `driverless run --stream` and `driverless redrive` read it when
 * no endpoint is given.
 */
export const STATE_FILE = '.driverless/local.json';

/** The state file: what a test, the AWS CLI or a script needs to attach to a running stack. */
export interface StackState {
  readonly region: string;
  readonly accountId: string;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly endpoints: Required<ServiceEndpoints>;
  /** By logical id. */
  readonly streams: Readonly<Record<string, { name: string; arn: string; shards: number }>>;
  readonly tables: Readonly<Record<string, { name: string; arn: string }>>;
  readonly queues: Readonly<Record<string, { name: string; url: string; arn: string }>>;
  readonly buckets: Readonly<Record<string, { name: string }>>;
  readonly functions: Readonly<
    Record<
      string,
      {
        name: string;
        aliases: LocalApp['functions'][number]['aliases'];
        environment: Record<string, string>;
      }
    >
  >;
  readonly mappings: readonly {
    uuid: string;
    function: string;
    qualifier: string | undefined;
    eventSourceArn: string;
  }[];
}

/**
 * A state file as a tool reads it: written by another version of the stack or by hand, so any
 * key (and any endpoint) may be missing and each reader says what it needs.
 */
export type StackStateAsRead = Partial<Omit<StackState, 'endpoints'>> & {
  readonly endpoints?: Partial<StackState['endpoints']>;
};

/** Writes the state file of a running stack. */
export async function writeStateFile(
  path: string,
  app: LocalApp,
  endpoints: Required<ServiceEndpoints>,
): Promise<void> {
  const state: StackState = {
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    credentials: { ...LOCAL_CREDENTIALS },
    endpoints,
    streams: Object.fromEntries(
      app.streams.map((s) => [s.logicalId, { name: s.name, arn: s.arn, shards: s.shardCount }]),
    ),
    tables: Object.fromEntries(app.tables.map((t) => [t.logicalId, { name: t.name, arn: t.arn }])),
    queues: Object.fromEntries(
      app.queues.map((q) => [q.logicalId, { name: q.name, url: q.url, arn: q.arn }]),
    ),
    buckets: Object.fromEntries(app.buckets.map((b) => [b.logicalId, { name: b.name }])),
    functions: Object.fromEntries(
      app.functions.map((f) => [
        f.logicalId,
        { name: f.name, aliases: f.aliases, environment: f.environment },
      ]),
    ),
    mappings: app.mappings.map((m) => ({
      uuid: m.uuid,
      function: m.functionName,
      qualifier: m.functionQualifier,
      eventSourceArn: m.eventSourceArn,
    })),
  };
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(state, null, 2)}\n`);
}
