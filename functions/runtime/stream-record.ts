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

  constructor(
    readonly data: T,
    readonly partitionKey: string,
    readonly sequenceNumber: string,
    readonly subSequenceNumber: number | undefined,
    readonly shardId: string,
    /** Epoch seconds with a millisecond fraction. */
    readonly arrivalSeconds: number,
  ) {}

  get arrivedAt(): Date {
    this.#arrivedAt ??= new Date(Math.round(this.arrivalSeconds * 1000));
    return this.#arrivedAt;
  }
}
