/** A decoded Kinesis record, as stages and jobs see it. */
export interface StreamRecord<T> {
  /** The decoded, typed payload. */
  readonly data: T;
  readonly partitionKey: string;
  /** Decimal string; compare with `compareSequenceNumbers`, never as a number. */
  readonly sequenceNumber: string;
  /** Position inside a KPL aggregate; `undefined` for records that were not aggregated. */
  readonly subSequenceNumber: number | undefined;
  readonly shardId: string;
  /** When Kinesis accepted the record (`approximateArrivalTimestamp`). */
  readonly arrivedAt: Date;
}

/** The runtime's record: arrival is kept as a number and turned into a Date only when read. */
export class DecodedRecord<T> implements StreamRecord<T> {
  #arrivedAt: Date | undefined;
  // Private, so it is invisible to jobs that spread, compare or serialise records.
  readonly #index: number;

  constructor(
    readonly data: T,
    readonly partitionKey: string,
    readonly sequenceNumber: string,
    readonly subSequenceNumber: number | undefined,
    readonly shardId: string,
    /** Epoch seconds with a millisecond fraction. */
    readonly arrivalSeconds: number,
    /** Position among the batch's decoded records. */
    index: number,
  ) {
    this.#index = index;
  }

  /**
   * The position among its batch's decoded records of a record the runtime made, or -1 for any
   * other value: with `records[indexOf(value)] === value` it tells in O(1) whether a value is one
   * of a batch's records.
   */
  static indexOf(value: unknown): number {
    return typeof value === 'object' && value !== null && #index in value
      ? (value as DecodedRecord<unknown>).#index
      : -1;
  }

  get arrivedAt(): Date {
    this.#arrivedAt ??= new Date(Math.round(this.arrivalSeconds * 1000));
    return this.#arrivedAt;
  }
}
