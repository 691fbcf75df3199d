import { type ServerProcess, spawnServer } from './spawn-server';

/** The Kinesis emulators the embedded stack can run (docs/emulator.md#kinesis-engines). */
export type KinesisEngine = 'kinesalite' | 'kinesis-local';

/** What a Kinesis engine implements beyond the basic stream, put and get APIs. */
export interface KinesisFeatures {
  /** Enhanced fan-out: RegisterStreamConsumer and SubscribeToShard. */
  readonly consumers: boolean;
  /** UpdateShardCount (SplitShard and MergeShards work on both engines). */
  readonly resharding: boolean;
  /** StartStreamEncryption / StopStreamEncryption. */
  readonly encryption: boolean;
  /** ON_DEMAND capacity mode. */
  readonly onDemand: boolean;
}

/** A running Kinesis API server, whichever engine serves it. */
export interface KinesisServer {
  /** `http://127.0.0.1:<port>`, for the SDK's `endpoint`. */
  readonly endpoint: string;
  readonly engine: KinesisEngine;
  readonly features: KinesisFeatures;
  /** Child process id (for diagnostics and orphan checks). */
  readonly pid: number;
  /** Every TCP port the server listens on, all on 127.0.0.1. */
  readonly ports: readonly number[];
  /** Stops the server and resolves once its process has exited. */
  stop(): Promise<void>;
}

export interface StartKinesisOptions {
  /**
   * kinesalite is 10–20× faster; kinesis-local implements consumers, resharding, encryption
   * and on-demand streams (docs/emulator.md#kinesis-engines).
   * @default 'kinesalite'
   */
  engine?: KinesisEngine;
  /** Absolute directory that keeps streams and records across restarts. @default - in memory */
  dataDir?: string;
  /** Receives the server's own log output. */
  onOutput?: (chunk: string) => void;
}

/** Feature table, as probed (docs/emulator.md#kinesis-engines). */
export const KINESIS_FEATURES: Readonly<Record<KinesisEngine, KinesisFeatures>> = {
  kinesalite: { consumers: false, resharding: false, encryption: false, onDemand: false },
  'kinesis-local': { consumers: true, resharding: true, encryption: true, onDemand: true },
};

/** Starts a Kinesis API server on 127.0.0.1 (only) in its own process. */
export async function startKinesis(options: StartKinesisOptions = {}): Promise<KinesisServer> {
  const engine = options.engine ?? 'kinesalite';
  const server: ServerProcess = await spawnServer({
    kind: engine,
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    ...(options.onOutput === undefined ? {} : { onOutput: options.onOutput }),
  });
  return {
    endpoint: `http://127.0.0.1:${server.port}`,
    engine,
    features: KINESIS_FEATURES[engine],
    pid: server.pid,
    ports: [server.port],
    stop: server.stop,
  };
}
