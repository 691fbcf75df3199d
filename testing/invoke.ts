import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import {
  type BatchOutcome,
  type BatchResponse,
  classifyBatchResponse,
  type KinesisEvent,
} from '../functions/kinesis/index';
import type { DeadLetter } from '../functions/runtime/index';
import { deadLetterFile } from './handler-environment';
import { type LambdaContextOptions, lambdaContext } from './lambda-context';

/** A handler as Lambda calls it; what `microBatch()` returns fits. */
export type KinesisHandler<State = never> = (
  event: KinesisEvent,
  context: Context,
) => Promise<BatchResponse<State>>;

/** Options of {@link invoke}. */
export interface InvokeOptions {
  /** The context, or options to make one with {@link lambdaContext}. @default - lambdaContext() */
  readonly context?: Context | LambdaContextOptions;
}

/** What one invocation returned and wrote. */
export interface InvokeResult<State = never> {
  /** The handler's answer, as returned. */
  readonly response: BatchResponse<State>;
  /**
   * How Lambda reads the answer for a mapping with partial batch responses: `success`, `partial`
   * (`retryFrom`: the index of the first record it redelivers) or `failure`, with the reason.
   */
  readonly outcome: BatchOutcome;
  /** The letters this invocation wrote, in the order written. */
  readonly deadLetters: DeadLetter[];
}

const isContext = (value: Context | LambdaContextOptions): value is Context =>
  typeof (value as Context).getRemainingTimeInMillis === 'function';

/**
 * Invokes a handler with an event as Lambda would and returns its answer with the dead letters it
 * wrote. The handler's module must have been imported after {@link setHandlerEnvironment}, which
 * points its dead letters at a local file. A handler that throws rejects, as a failed invocation.
 * ```ts
 * setHandlerEnvironment({ TABLE_NAME: 'orders' });
 * const { handler } = await import('../functions/orders');
 * const { response, deadLetters } = await invoke(handler, kinesisEvent([{ data: 'not json' }]));
 * ```
 */
export async function invoke<State = never>(
  handler: KinesisHandler<State>,
  event: KinesisEvent,
  options: InvokeOptions = {},
): Promise<InvokeResult<State>> {
  const file = deadLetterFile();
  if (file === undefined) {
    throw new Error(
      'invoke() reads dead letters from the file setHandlerEnvironment() names: call it before ' +
        'importing the handler module',
    );
  }
  const given = options.context ?? {};
  const context = isContext(given) ? given : lambdaContext(given);
  const offset = existsSync(file) ? statSync(file).size : 0;
  const response = await handler(event, context);
  const records = new Set(event.Records.map((record) => record.eventID));
  const outcome = classifyBatchResponse(
    { payload: response },
    event.Records.map((record) => record.kinesis.sequenceNumber),
    { reportBatchItemFailures: true, tumblingWindow: event.window !== undefined },
  );
  return { response, outcome, deadLetters: lettersSince(file, offset, records) };
}

/**
 * The letters appended to `file` after `offset` for the given records (`shardId:sequenceNumber`):
 * another invocation running at the same time appends its own letters to the same file.
 */
function lettersSince(file: string, offset: number, records: ReadonlySet<string>): DeadLetter[] {
  if (!existsSync(file)) return [];
  return readFileSync(file)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DeadLetter)
    .filter((letter) => records.has(`${letter.shardId}:${letter.sequenceNumber}`));
}
