import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { startEventSourceMapping } from '../../emulator/esm/startEventSourceMapping';
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { mappingConfig, roleArn } from '../fixtures/esm/mappingConfig';

// The shard reader sends the next GetRecords before it handles the records of the last one, as
// long as the shard has more: driven by a scripted Kinesis client that logs each call in one
// timeline with the mapping's events.

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
const SHARD = 'shardId-000000000000';

/** A shard of `reads` full reads of two records each (numbered from 1), then caught up. */
function scriptedShard(reads: number, timeline: string[]) {
  let served = 0;
  const kinesis = {
    async send(command: unknown) {
      if (command instanceof ListShardsCommand) return { Shards: [{ ShardId: SHARD }] };
      if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'it-0' };
      if (command instanceof GetRecordsCommand) {
        served += 1;
        // As the SDK, whose middleware writes the request several turns after send(): the read is
        // on the wire only once the reader let those turns run.
        for (let turn = 0; turn < 20; turn++) await Promise.resolve();
        timeline.push(`GetRecords ${command.input.ShardIterator}`);
        if (served > reads)
          return { Records: [], NextShardIterator: `it-${served}`, MillisBehindLatest: 0 };
        const records: _Record[] = [1, 2].map((i) => ({
          SequenceNumber: String((served - 1) * 2 + i),
          PartitionKey: 'k',
          Data: Buffer.from(JSON.stringify({ keep: i === 2 })),
          ApproximateArrivalTimestamp: new Date(),
        }));
        return { Records: records, NextShardIterator: `it-${served}`, MillisBehindLatest: 1000 };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as KinesisClient;
  return { kinesis, served: () => served };
}

describe('shard reader read-ahead', () => {
  it('sends the next GetRecords of a shard that has more before it handles the records just read, in iterator order', async () => {
    // given: a filter, whose verdict on each read shows when the reader handled it
    const timeline: string[] = [];
    const shard = scriptedShard(3, timeline);
    const fn = fakeFunction(() => ({ payload: { batchItemFailures: [] } }));
    const mapping = startEventSourceMapping(
      mappingConfig(STREAM_ARN, { batchSize: 2, filters: ['{"data":{"keep":[true]}}'] }),
      {
        kinesis: shard.kinesis,
        invoke: fn.invoke,
        region: 'us-east-1',
        accountId: '000000000000',
        roleArn,
        tuning: { idlePollIntervalMs: 5, shardDiscoveryIntervalMs: 60_000, getRecordsLimit: 2 },
        onEvent: (event) => {
          if (event.type === 'recordsFilteredOut') {
            timeline.push(`filtered out ${event.sequenceNumbers.join(',')}`);
          }
        },
      },
    );

    // when
    try {
      await waitFor(() => shard.served() >= 5, 5_000, 'the scripted reads');
    } finally {
      await mapping.stop();
    }

    // then
    expect(timeline.slice(0, 7)).toStrictEqual([
      'GetRecords it-0',
      'GetRecords it-1',
      'filtered out 1',
      'GetRecords it-2',
      'filtered out 3',
      'GetRecords it-3',
      'filtered out 5',
    ]);
    // the records kept still reach the function in shard order
    expect(fn.batches().flat()).toStrictEqual(['2', '4', '6']);
  });
});
