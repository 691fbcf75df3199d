import { spawnServer } from './spawn-server';

/** A running SQS + S3 API server (fauxqs): both services on one port. */
export interface SqsS3Server {
  /** `http://127.0.0.1:<port>`, for both the SQS and the S3 client. */
  readonly endpoint: string;
  readonly pid: number;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

export interface StartSqsS3Options {
  onOutput?: (chunk: string) => void;
}

/**
 * Starts fauxqs on 127.0.0.1 in its own process, in memory. Queue URLs it returns take the host
 * of the request that created the queue, so queues created through `endpoint` have URLs on
 * `endpoint` (usable by any SQS client). S3 clients need `forcePathStyle` (see `clients.ts`).
 */
export async function startSqsS3(options: StartSqsS3Options = {}): Promise<SqsS3Server> {
  const server = await spawnServer({
    kind: 'fauxqs',
    ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    pid: server.pid,
    ports: [server.port],
    stop: server.stop,
  };
}
