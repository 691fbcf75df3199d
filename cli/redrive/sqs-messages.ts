import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** Receives every visible message of a queue (until two empty receives in a row). */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message[]> {
  const messages: Message[] = [];
  for (let empty = 0; empty < 2; ) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: empty === 0 ? 0 : 1,
        VisibilityTimeout: visibilityTimeout,
      }),
    );
    const received = page.Messages ?? [];
    if (received.length === 0) empty++;
    else empty = 0;
    messages.push(...received);
  }
  return messages;
}

async function inBatchesOfTen<T>(items: readonly T[], send: (chunk: T[]) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += 10) await send(items.slice(start, start + 10));
}

/** Makes messages visible again at once, for the next reader (or the next redrive). */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<void> {
  await inBatchesOfTen(receiptHandles, (chunk) =>
    sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((handle, index) => ({
          Id: String(index),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    ),
  );
}

/** Deletes messages; resolves with the receipt handles SQS confirmed deleted. */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<Set<string>> {
  const deleted = new Set<string>();
  await inBatchesOfTen(receiptHandles, async (chunk) => {
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
      }),
    );
    for (const entry of out.Successful ?? []) {
      const handle = chunk[Number(entry.Id)];
      if (handle !== undefined) deleted.add(handle);
    }
  });
  return deleted;
}
