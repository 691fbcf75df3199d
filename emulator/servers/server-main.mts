/**
 * Child-process entry of one embedded API server. The parent (`spawn-server.ts`) forks this file
 * with an IPC channel; it starts one emulator on 127.0.0.1, reports `{type:'ready', port}` and
 * exits on `{type:'stop'}` or as soon as the IPC channel closes, so a parent that dies (even by
 * SIGKILL) never leaves a server behind.
 *
 * Runs on Node's built-in type stripping (Node ≥ 22.18), so it uses erasable syntax only and
 * imports nothing from the project at run time.
 */

import type { Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import { connect, createServer, type Server as NetServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { ServerControlMessage, ServerProcessMessage, ServerProcessOptions } from './protocol';

const require = createRequire(import.meta.url);

/** A running server and how to close it gracefully (flushing what it persists). */
interface Running {
  port: number;
  tlsPort?: number;
  close(): Promise<void>;
}

function send(message: ServerProcessMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** Closes an HTTP server, dropping keep-alive connections so the close cannot hang. */
function closeHttp(server: HttpServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function listenLoopback(server: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        reject(new Error(`unexpected server address ${String(address)}`));
        return;
      }
      resolve(address.port);
    });
  });
}

async function startKinesalite(dataDir: string | undefined): Promise<Running> {
  const kinesalite = require('kinesalite') as (options: Record<string, unknown>) => HttpServer;
  // The default shardLimit (10) counts the whole account; *Ms 0 makes streams ACTIVE at once.
  const server = kinesalite({
    shardLimit: 1000,
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    ...(dataDir === undefined ? {} : { path: dataDir }),
  });
  const port = await listenLoopback(server);
  return { port, close: () => closeHttp(server) };
}

async function startDynalite(dataDir: string | undefined): Promise<Running> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => HttpServer;
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dataDir === undefined ? {} : { path: dataDir }),
  });
  const port = await listenLoopback(server);
  return { port, close: () => closeHttp(server) };
}

interface FauxqsApp {
  listen(options: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
}

async function startFauxqs(): Promise<Running> {
  const entry = import.meta.resolve('fauxqs');
  const { buildApp } = (await import(entry)) as {
    buildApp(options: Record<string, unknown>): FauxqsApp;
  };
  // fauxqs builds queue URLs as `http://sqs.<region>.localhost:<port>/…`, and `*.localhost`
  // does not resolve here. With an empty host it uses the request's Host header instead, so a
  // queue created through `http://127.0.0.1:<port>` gets a URL any SQS client can call.
  // `buildApp({host:''})` ignores the empty string, so the store is built here (fauxqs 2.4.1 layout).
  const load = async <T,>(path: string, name: string): Promise<T> =>
    ((await import(new URL(path, entry).href)) as Record<string, T>)[name] as T;
  const SqsStore = await load<new () => { host: string }>('./sqs/sqsStore.js', 'SqsStore');
  const SnsStore = await load<new () => object>('./sns/snsStore.js', 'SnsStore');
  const S3Store = await load<new () => object>('./s3/s3Store.js', 'S3Store');
  const sqsStore = new SqsStore();
  sqsStore.host = '';
  const app = buildApp({
    logger: false,
    stores: { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() },
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: Number(new URL(address).port), close: () => app.close() };
}

/** Reserves free ports on every interface (kinesis-local binds all of them and has no host option). */
async function reservePorts(count: number): Promise<number[]> {
  const servers: NetServer[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          server.once('error', reject);
          server.listen(0, () => {
            const address = server.address();
            resolve(typeof address === 'object' && address !== null ? address.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function waitForPort(port: number): Promise<void> {
  return new Promise((resolve) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

async function startKinesisLocal(dataDir: string | undefined): Promise<Running> {
  const [plainPort, tlsPort] = await reservePorts(2);
  if (plainPort === undefined || tlsPort === undefined) throw new Error('no free ports');
  const packageDir = dirname(require.resolve('kinesis-local/package.json'));
  const durations = [
    'CREATE_STREAM',
    'DELETE_STREAM',
    'UPDATE_SHARD_COUNT',
    'SPLIT_SHARD',
    'MERGE_SHARDS',
    'UPDATE_STREAM_MODE',
    'REGISTER_STREAM_CONSUMER',
    'DEREGISTER_STREAM_CONSUMER',
    'START_STREAM_ENCRYPTION',
    'STOP_STREAM_ENCRYPTION',
  ];
  Object.assign(process.env, {
    // Read relative to the working directory otherwise, and it crashes with ENOENT.
    KINESIS_MOCK_CERT_PATH: join(packageDir, 'server.json'),
    KINESIS_MOCK_PLAIN_PORT: String(plainPort),
    KINESIS_MOCK_TLS_PORT: String(tlsPort),
    LOG_LEVEL: 'WARN',
    ...Object.fromEntries(durations.map((name) => [`${name}_DURATION`, '0ms'])),
    ...(dataDir === undefined
      ? {}
      : { SHOULD_PERSIST_DATA: 'true', PERSIST_PATH: dataDir, PERSIST_INTERVAL: '1s' }),
  });
  // kinesis-local is a CLI bundle that starts its server when loaded; loading it here (rather
  // than spawning it) keeps it inside this process, so the IPC watchdog below also covers it.
  require(join(packageDir, 'main.js'));
  await waitForPort(plainPort);
  // It ignores SIGTERM and has no close API; the parent SIGKILLs this process instead.
  return { port: plainPort, tlsPort, close: async () => {} };
}

async function start(options: ServerProcessOptions): Promise<Running> {
  switch (options.kind) {
    case 'kinesalite':
      return startKinesalite(options.dataDir);
    case 'kinesis-local':
      return startKinesisLocal(options.dataDir);
    case 'dynalite':
      return startDynalite(options.dataDir);
    case 'fauxqs':
      return startFauxqs();
  }
}

async function main(): Promise<void> {
  if (!process.connected) process.exit(0);
  // The parent is gone (stopped or killed): no orphan server may outlive it.
  process.on('disconnect', () => process.exit(0));
  const options = JSON.parse(process.argv[2] ?? '{}') as ServerProcessOptions;
  let running: Running | undefined;
  process.on('message', (message: ServerControlMessage) => {
    if (message.type !== 'stop') return;
    const closing = running?.close() ?? Promise.resolve();
    closing.finally(() => process.exit(0));
  });
  try {
    running = await start(options);
  } catch (error) {
    await send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  await send({
    type: 'ready',
    port: running.port,
    ...(running.tlsPort === undefined ? {} : { tlsPort: running.tlsPort }),
  });
}

await main();
