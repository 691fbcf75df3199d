/**
 * How redrive treats a function's response, against fake Lambda and SQS clients: the ESM's rules
 * (an error fails the whole chunk; a reported item fails it and everything after it in the
 * shard), deduplication of letters, and deletion of only what was recovered.
 */
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { redrive } from '../../localstack/redrive/redrive';

const QUEUE = 'http://127.0.0.1:1/000000000000/letters';
const STREAM = 'arn:aws:kinesis:us-east-1:000000000000:stream/s';

interface Letter {
  id: string;
  sequenceNumber: string;
  shardId: string;
}

function letter(shardId: string, sequenceNumber: string): Letter & Record<string, unknown> {
  return {
    id: `${shardId}:${sequenceNumber}`,
    reason: 'invalid JSON: x',
    data: Buffer.from(`{"n":${sequenceNumber}}`).toString('base64'),
    partitionKey: 'k',
    sequenceNumber,
    shardId,
    streamArn: STREAM,
    arrivedAt: '2026-11-23T20:00:00.000Z',
    approximateArrivalTimestamp: 1_795_000_000.5,
    source: 'src',
    functionName: 'fn',
    batchId: 'b',
    deadLetteredAt: '2026-11-23T20:00:01.000Z',
  };
}

/** Fake clients: the queue holds `letters` once; `respond` answers each Invoke. */
function fakes(
  letters: readonly Record<string, unknown>[],
  respond: (event: { Records: { kinesis: { sequenceNumber: string } }[] }) => {
    FunctionError?: string;
    body?: unknown;
  },
  variables: Record<string, string> = {},
) {
  const deleted: string[] = [];
  const invoked: string[][] = [];
  let served = false;
  const lambda = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      switch (command.constructor.name) {
        case 'ListFunctionsCommand':
          return {
            Functions: [
              {
                FunctionName: 'fn',
                Environment: {
                  Variables: {
                    DRIVERLESS_SOURCE: 'src',
                    DRIVERLESS_DEAD_LETTER_QUEUE_URL: QUEUE,
                    ...variables,
                  },
                },
              },
            ],
          };
        case 'ListEventSourceMappingsCommand':
          return { EventSourceMappings: [] };
        case 'InvokeCommand': {
          const event = JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString());
          invoked.push(
            event.Records.map(
              (r: { kinesis: { sequenceNumber: string } }) => r.kinesis.sequenceNumber,
            ),
          );
          const out = respond(event);
          return {
            FunctionError: out.FunctionError,
            Payload: Buffer.from(JSON.stringify(out.body ?? { batchItemFailures: [] })),
          };
        }
        default:
          throw new Error(`unexpected ${command.constructor.name}`);
      }
    },
  };
  const sqs = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      switch (command.constructor.name) {
        case 'ReceiveMessageCommand': {
          if (served) return { Messages: [] };
          served = true;
          return {
            Messages: letters.map((l, i) => ({ Body: JSON.stringify(l), ReceiptHandle: `h${i}` })),
          };
        }
        case 'DeleteMessageBatchCommand': {
          const entries = command.input.Entries as { ReceiptHandle: string }[];
          deleted.push(...entries.map((e) => e.ReceiptHandle));
          return { Successful: entries };
        }
        case 'ChangeMessageVisibilityBatchCommand':
          return {};
        default:
          throw new Error(`unexpected ${command.constructor.name}`);
      }
    },
  };
  return {
    clients: {
      lambda: lambda as unknown as LambdaClient,
      sqs: sqs as unknown as SQSClient,
      kinesis: {} as KinesisClient,
      s3: {} as S3Client,
    },
    deleted,
    invoked,
  };
}

describe('redrive replay', () => {
  it('replays one event per shard, records in sequence order, duplicates once', async () => {
    // Given: letters out of order, one of them twice
    const f = fakes(
      [
        letter('shard-1', '30'),
        letter('shard-1', '10'),
        letter('shard-2', '5'),
        letter('shard-1', '10'),
      ],
      () => ({}),
    );

    // When
    const summary = await redrive({ source: 'src', clients: f.clients });

    // Then
    expect({ invoked: f.invoked, recovered: summary.recovered, deleted: f.deleted.sort() }).toEqual(
      {
        invoked: [['10', '30'], ['5']],
        recovered: 3,
        deleted: ['h0', 'h1', 'h2', 'h3'],
      },
    );
  });

  it('keeps the reported record and everything after it in its shard', async () => {
    // Given
    const f = fakes([letter('s', '1'), letter('s', '2'), letter('s', '3')], () => ({
      body: { batchItemFailures: [{ itemIdentifier: '2' }] },
    }));

    // When
    const summary = await redrive({ source: 'src', clients: f.clients });

    // Then
    expect({
      recovered: summary.recovered,
      stillFailing: summary.stillFailing,
      deleted: f.deleted,
    }).toEqual({
      recovered: 1,
      stillFailing: 2,
      deleted: ['h0'],
    });
  });

  it('keeps the whole chunk and stops the shard when the function fails', async () => {
    // Given
    const f = fakes([letter('s', '1'), letter('s', '2'), letter('s', '3')], () => ({
      FunctionError: 'Unhandled',
      body: { errorMessage: 'boom' },
    }));

    // When
    const summary = await redrive({ source: 'src', batchSize: 2, clients: f.clients });

    // Then
    expect({ invoked: f.invoked, stillFailing: summary.stillFailing, deleted: f.deleted }).toEqual({
      invoked: [['1', '2']],
      stillFailing: 3,
      deleted: [],
    });
  });

  it('invokes and deletes nothing in a dry run', async () => {
    // Given
    const f = fakes([letter('s', '1')], () => ({}));

    // When
    const summary = await redrive({ source: 'src', dryRun: true, clients: f.clients });

    // Then
    expect({ records: summary.records, invoked: f.invoked, deleted: f.deleted }).toEqual({
      records: 1,
      invoked: [],
      deleted: [],
    });
  });

  it('skips letters written before --since', async () => {
    // Given
    const f = fakes([letter('s', '1')], () => ({}));

    // When
    const summary = await redrive({
      source: 'src',
      since: new Date('2026-11-23T21:00:00Z'),
      clients: f.clients,
    });

    // Then
    expect({ messages: summary.messages, invoked: f.invoked }).toEqual({
      messages: 0,
      invoked: [],
    });
  });

  it('fails if batchSize is out of range', async () => {
    const f = fakes([], () => ({}));
    await expect(redrive({ source: 'src', batchSize: 0, clients: f.clients })).rejects.toThrow(
      'batchSize must be between 1 and 10000 (given 0)',
    );
  });

  it('recovers from a function with per-job cursors, whose runtime bypasses them on a replay', async () => {
    // Given
    const f = fakes([letter('s', '1')], () => ({}), { DRIVERLESS_CHECKPOINT_TABLE: 'cursors' });

    // When
    const summary = await redrive({ source: 'src', clients: f.clients });

    // Then
    expect({ recovered: summary.recovered, deleted: f.deleted.length }).toEqual({
      recovered: 1,
      deleted: 1,
    });
  });
});
