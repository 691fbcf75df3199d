import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import type {
  BackfillContinuation,
  BackfillCounts,
  BackfillSlice,
} from '../../functions/runtime/backfill/backfill-event';
import type { PlannedSlice } from './plan-slices';

/** What a backfill was asked to do; kept so `--resume` continues exactly that. */
export interface BackfillSpec {
  readonly source: string;
  readonly qualifier: string;
  /** `stream` with its arrival-time range, or an archive location. */
  readonly input:
    | {
        readonly kind: 'stream';
        readonly streamArn: string;
        readonly fromMs: number;
        readonly toMs: number;
      }
    | { readonly kind: 'archive'; readonly url: string };
  readonly batchSize: number;
  readonly ignoreCursors: boolean;
  readonly functions: readonly string[];
  readonly slices: number;
}

/** The backfill of a source: its spec and which generation (run) it is. */
export interface Manifest {
  readonly spec: BackfillSpec;
  readonly generation: number;
  readonly status: 'running' | 'done';
  readonly startedAt: string;
}

export type UnitState = 'pending' | 'running' | 'done' | 'failed';

/** One slice for one function: the unit the orchestrator invokes, and what it has done so far. */
export interface Unit {
  readonly sliceIndex: number;
  readonly functionIndex: number;
  readonly slice: BackfillSlice;
  readonly after: readonly string[];
  state: UnitState;
  continuation: BackfillContinuation | undefined;
  counts: BackfillCounts;
  /** Failed invocations in a row. */
  attempts: number;
  /** Epoch ms until which an invocation of this unit may still be running (its function's timeout). */
  leaseUntil: number;
  lastError?: string;
}

export function emptyCounts(): BackfillCounts {
  return { batches: 0, invocations: 0, records: 0, deadLettered: 0, failed: 0, jobs: {} };
}

/**
 * Progress of backfills, in the pipeline's checkpoint table (the one that holds the per-job
 * cursors that make a resumed slice safe): one manifest row per source (`backfill|<source>`) and
 * one row per unit (`backfill|<source>|<generation>|<slice>|<function>`), written after every
 * invocation. A crash loses at most the invocations in flight, whose batches the cursors skip.
 */
export class ProgressStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly table: string,
    private readonly source: string,
  ) {}

  private manifestId(): string {
    return `backfill|${this.source}`;
  }

  private unitId(generation: number, unit: Pick<Unit, 'sliceIndex' | 'functionIndex'>): string {
    return `backfill|${this.source}|${generation}|${unit.sliceIndex}|${unit.functionIndex}`;
  }

  async manifest(): Promise<Manifest | undefined> {
    const { Item } = await this.dynamodb.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { id: { S: this.manifestId() } },
        ConsistentRead: true,
      }),
    );
    const body = Item?.manifest?.S;
    return body === undefined ? undefined : (JSON.parse(body) as Manifest);
  }

  async putManifest(manifest: Manifest): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.table,
        Item: { id: { S: this.manifestId() }, manifest: { S: JSON.stringify(manifest) } },
      }),
    );
  }

  /** Writes every unit of a new plan, 25 rows a request. */
  async putUnits(generation: number, units: readonly Unit[]): Promise<void> {
    for (let start = 0; start < units.length; start += 25) {
      let requests = units.slice(start, start + 25).map((unit) => ({
        PutRequest: { Item: this.itemOf(generation, unit) },
      }));
      for (let attempt = 0; requests.length > 0; attempt++) {
        if (attempt === 5) throw new Error(`checkpoint table ${this.table} kept refusing writes`);
        const result = await this.dynamodb.send(
          new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
        );
        requests = (result.UnprocessedItems?.[this.table] ?? []) as typeof requests;
      }
    }
  }

  async putUnit(generation: number, unit: Unit): Promise<void> {
    await this.dynamodb.send(
      new PutItemCommand({ TableName: this.table, Item: this.itemOf(generation, unit) }),
    );
  }

  /** Every unit of a generation, read back for `--resume`. */
  async units(generation: number, slices: number, functions: number): Promise<Unit[]> {
    const ids: string[] = [];
    for (let s = 0; s < slices; s++)
      for (let f = 0; f < functions; f++)
        ids.push(this.unitId(generation, { sliceIndex: s, functionIndex: f }));
    const units: Unit[] = [];
    for (let start = 0; start < ids.length; start += 100) {
      let keys = ids.slice(start, start + 100).map((id) => ({ id: { S: id } }));
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt === 5) throw new Error(`checkpoint table ${this.table} kept refusing reads`);
        const result = await this.dynamodb.send(
          new BatchGetItemCommand({
            RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of result.Responses?.[this.table] ?? []) {
          if (item.unit?.S) units.push(JSON.parse(item.unit.S) as Unit);
        }
        keys = (result.UnprocessedKeys?.[this.table]?.Keys ?? []) as typeof keys;
      }
    }
    if (units.length !== ids.length) {
      throw new Error(
        `backfill of ${this.source} lost ${ids.length - units.length} of its ${ids.length} progress rows in ${this.table}`,
      );
    }
    return units.sort((a, b) => a.sliceIndex - b.sliceIndex || a.functionIndex - b.functionIndex);
  }

  private itemOf(generation: number, unit: Unit) {
    return {
      id: { S: this.unitId(generation, unit) },
      unit: { S: JSON.stringify(unit) },
      state: { S: unit.state },
    };
  }
}

/** The units of a plan: every slice for every function, none started. */
export function unitsOf(plan: readonly PlannedSlice[], functions: number): Unit[] {
  return plan.flatMap((planned, sliceIndex) =>
    Array.from({ length: functions }, (_, functionIndex) => ({
      sliceIndex,
      functionIndex,
      slice: planned.slice,
      after: planned.after,
      state: 'pending' as const,
      continuation: undefined,
      counts: emptyCounts(),
      attempts: 0,
      leaseUntil: 0,
    })),
  );
}
