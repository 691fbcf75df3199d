import { spawnServer } from './spawn-server';

/** A running DynamoDB API server (dynalite). */
export interface DynamoServer {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly endpoint: string;
  readonly pid: number;
  readonly ports: readonly number[];
  stop(): Promise<void>;
}

export interface StartDynamoOptions {
  /** Absolute directory that keeps tables across restarts. @default - in memory */
  dataDir?: string;
  onOutput?: (chunk: string) => void;
}

/**
 * Starts dynalite on 127.0.0.1 in its own process, with table creation, update and deletion
 * taking effect at once. It lacks transactions, TTL and PartiQL (docs/emulator.md#dynalite).
 */
export async function startDynamo(options: StartDynamoOptions = {}): Promise<DynamoServer> {
  const server = await spawnServer({
    kind: 'dynalite',
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    pid: server.pid,
    ports: [server.port],
    stop: server.stop,
  };
}
