/**
 * Child-process entry of one embedded API server. The parent (`spawn-server.ts`) forks this file
 * with an IPC channel; it starts one emulator, reports `{type:'ready', port}` and exits on
 * `{type:'stop'}` or as soon as the IPC channel closes, so a parent that dies (even by SIGKILL)
 * never leaves a server behind.
 *
 * The emulator itself listens only on a Unix socket in a private directory, which no web page can
 * reach. The one TCP port, on 127.0.0.1, is a front that passes on requests from programs on this
 * machine and refuses the ones a browser makes (`loopback-guard.ts`), and drops the CORS headers
 * kinesalite, dynalite and kinesis-local send (`Access-Control-Allow-Origin: *` would let any page
 * read their answers).
 *
 * Runs on Node's built-in type stripping (Node ≥ 22.18), so it uses erasable syntax only and
 * imports nothing from the project at run time.
 */

import {
  Agent,
  type Server as HttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { createRequire } from 'node:module';
import { connect, Server as NetServer } from 'node:net';
import { dirname, join } from 'node:path';
import type {
  AnyRequest,
  AnyResponse,
  isHttp2 as IsHttp2,
  isHttp2ResponseHeader as IsHttp2ResponseHeader,
  listenHttp1And2 as ListenHttp1And2,
} from './http1-and-2';
import type { answerAtTimestampPastTheTip as AnswerAtTimestampPastTheTip } from './kinesalite-at-timestamp';
import type {
  foreignRequestReason as ForeignRequestReason,
  isCorsHeader as IsCorsHeader,
} from './loopback-guard';
import type { ServerControlMessage, ServerProcessMessage, ServerProcessOptions } from './protocol';

const require = createRequire(import.meta.url);
/**
 * A module beside this one, loaded by URL (the type checker refuses `.ts` specifiers): TypeScript
 * from the sources, the `.mjs` the package build writes beside `server-main.mjs`.
 */
const sibling = (name: string): string =>
  new URL(`./${name}${import.meta.url.endsWith('.mts') ? '.ts' : '.mjs'}`, import.meta.url).href;
const { foreignRequestReason, isCorsHeader } = (await import(sibling('loopback-guard'))) as {
  foreignRequestReason: typeof ForeignRequestReason;
  isCorsHeader: typeof IsCorsHeader;
};
const { listenHttp1And2, isHttp2, isHttp2ResponseHeader } = (await import(
  sibling('http1-and-2')
)) as {
  listenHttp1And2: typeof ListenHttp1And2;
  isHttp2: typeof IsHttp2;
  isHttp2ResponseHeader: typeof IsHttp2ResponseHeader;
};

/** An emulator listening on a Unix socket, and how to close it gracefully (flushing what it persists). */
interface Backend {
  socketPath: string;
  close(): Promise<void>;
}

/** The running front and its backend. */
interface Running {
  port: number;
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

function listenSocket(server: HttpServer, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
}

async function startKinesalite(dataDir: string | undefined, socketPath: string): Promise<Backend> {
  // kinesalite never answers an AT_TIMESTAMP GetShardIterator past a shard's last record.
  const { answerAtTimestampPastTheTip } = (await import(sibling('kinesalite-at-timestamp'))) as {
    answerAtTimestampPastTheTip: typeof AnswerAtTimestampPastTheTip;
  };
  answerAtTimestampPastTheTip(require);
  const kinesalite = require('kinesalite') as (options: Record<string, unknown>) => HttpServer;
  // The default shardLimit (10) counts the whole account; *Ms 0 makes streams ACTIVE at once.
  const server = kinesalite({
    shardLimit: 1000,
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    ...(dataDir === undefined ? {} : { path: dataDir }),
  });
  await listenSocket(server, socketPath);
  return { socketPath, close: () => closeHttp(server) };
}

async function startDynalite(dataDir: string | undefined, socketPath: string): Promise<Backend> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => HttpServer;
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dataDir === undefined ? {} : { path: dataDir }),
  });
  await listenSocket(server, socketPath);
  return { socketPath, close: () => closeHttp(server) };
}

interface FauxqsApp {
  listen(options: { path: string }): Promise<string>;
  close(): Promise<void>;
}

async function startFauxqs(socketPath: string): Promise<Backend> {
  const entry = import.meta.resolve('fauxqs');
  const { buildApp } = (await import(entry)) as {
    buildApp(options: Record<string, unknown>): FauxqsApp;
  };
  // fauxqs builds queue URLs as `http://sqs.<region>.localhost:<port>/…`, and `*.localhost`
  // does not resolve here. With an empty host it uses the request's Host header instead (the
  // front passes it on), so a queue created through `http://127.0.0.1:<port>` gets a URL any SQS
  // client can call.
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
  await app.listen({ path: socketPath });
  return { socketPath, close: () => app.close() };
}

function waitForSocket(socketPath: string): Promise<void> {
  return new Promise((resolve) => {
    const attempt = (): void => {
      const socket = connect(socketPath);
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

/**
 * kinesis-local binds every interface, on the ports its environment names, and has no host
 * option. It is loaded into this process, so its two listens (plain and TLS) are redirected here to
 * Unix sockets. It reads the bound address back as an IP and port, and each connection's peer
 * address, which a Unix socket does not have: both are answered with loopback values.
 */
function redirectListens(ports: ReadonlyMap<number, string>): void {
  const listen = NetServer.prototype.listen;
  NetServer.prototype.listen = function listenOnSocket(this: NetServer, ...args: unknown[]) {
    const first = args[0];
    const port = typeof first === 'number' ? first : (first as { port?: number } | undefined)?.port;
    const socketPath = port === undefined ? undefined : ports.get(port);
    if (port === undefined || socketPath === undefined) {
      return listen.apply(this, args as Parameters<typeof listen>);
    }
    const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    const loopback = { address: '127.0.0.1', family: 'IPv4', port };
    this.address = () => loopback;
    this.prependListener('connection', (socket) => {
      for (const [key, value] of Object.entries({
        remoteAddress: '127.0.0.1',
        remoteFamily: 'IPv4',
        remotePort: 0,
        localAddress: '127.0.0.1',
        localPort: port,
      })) {
        Object.defineProperty(socket, key, { value, configurable: true });
      }
    });
    return listen.call(this, socketPath, callback);
  } as typeof listen;
}

async function startKinesisLocal(dataDir: string | undefined, socketDir: string): Promise<Backend> {
  // Ports only name the listens to redirect; nothing binds them.
  const [plainPort, tlsPort] = [4567, 4568];
  const socketPath = join(socketDir, 'kinesis-local.sock');
  redirectListens(
    new Map([
      [plainPort, socketPath],
      [tlsPort, join(socketDir, 'kinesis-local-tls.sock')],
    ]),
  );
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
  await waitForSocket(socketPath);
  // It ignores SIGTERM and has no close API; the parent SIGKILLs this process instead.
  return { socketPath, close: async () => {} };
}

/**
 * The front on 127.0.0.1: refuses browser requests, passes the others to the backend's socket
 * unchanged (Host included: fauxqs builds queue URLs from it), and answers without CORS headers.
 * It speaks HTTP/1.1 and HTTP/2 on the same port, so SDK clients work with their default handler
 * (the Kinesis client's is HTTP/2); the backend always gets HTTP/1.1, the one protocol every
 * emulator serves reliably (kinesis-local's own HTTP/2 sessions die under concurrency).
 */
async function startFront(backend: Backend): Promise<Running> {
  // Keep-alive to the backend: an SDK client keeps its connections too.
  const agent = new Agent({ keepAlive: true });
  let port = 0;
  const front = await listenHttp1And2('127.0.0.1', function guardAndForward(request, response) {
    const refused = foreignRequestReason(request.headers, port);
    if (refused !== undefined) {
      refuse(request, response, refused);
      request.resume();
      return;
    }
    forward(request, response, backend.socketPath, agent);
  });
  port = front.port;
  return {
    port,
    close: async () => {
      await front.close();
      agent.destroy();
      await backend.close();
    },
  };
}

function refuse(request: AnyRequest, response: AnyResponse, reason: string): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-amz-json-1.1' };
  // HTTP/2 has no Connection header: a refused stream ends by itself.
  if (!isHttp2(request)) headers.Connection = 'close';
  (response as ServerResponse)
    .writeHead(403, headers)
    .end(JSON.stringify({ __type: 'AccessDeniedException', message: reason }));
}

/** The backend request's headers: HTTP/2 pseudo-headers become a Host header, as HTTP/1.1 has it. */
function upstreamHeaders(request: AnyRequest): IncomingHttpHeaders {
  if (!isHttp2(request)) return request.headers;
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith(':')) headers[name] = value;
  }
  headers.host ??= request.headers[':authority'];
  return headers;
}

/** The answer's headers for the client: without CORS headers, and without connection headers on HTTP/2. */
function downstreamHeaders(
  answer: IncomingMessage,
  http2: boolean,
): string[] | OutgoingHttpHeaders {
  if (!http2) {
    const headers: string[] = [];
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
      const name = answer.rawHeaders[i] as string;
      if (!isCorsHeader(name)) headers.push(name, answer.rawHeaders[i + 1] as string);
    }
    return headers;
  }
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !isCorsHeader(name) && isHttp2ResponseHeader(name)) {
      headers[name] = value;
    }
  }
  return headers;
}

function forward(
  request: AnyRequest,
  response: AnyResponse,
  socketPath: string,
  agent: Agent,
): void {
  const http2 = isHttp2(request);
  const upstream = httpRequest(
    {
      socketPath,
      agent,
      method: request.method,
      path: request.url,
      headers: upstreamHeaders(request),
    },
    (answer) => {
      const headers = downstreamHeaders(answer, http2);
      if (http2) (response as Http2ServerResponse).writeHead(answer.statusCode ?? 502, headers);
      else
        (response as ServerResponse).writeHead(
          answer.statusCode ?? 502,
          answer.statusMessage,
          headers,
        );
      answer.pipe(response as ServerResponse);
    },
  );
  upstream.on('error', (error) => {
    if (response.headersSent) response.destroy(error);
    else
      (response as ServerResponse)
        .writeHead(502, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ __type: 'ServiceUnavailable', message: error.message }));
  });
  // A client that goes away mid-request (an SDK timeout) ends the backend request too.
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
}

async function startBackend(options: ServerProcessOptions): Promise<Backend> {
  const socketPath = join(options.socketDir, `${options.kind}.sock`);
  switch (options.kind) {
    case 'kinesalite':
      return startKinesalite(options.dataDir, socketPath);
    case 'kinesis-local':
      return startKinesisLocal(options.dataDir, options.socketDir);
    case 'dynalite':
      return startDynalite(options.dataDir, socketPath);
    case 'fauxqs':
      return startFauxqs(socketPath);
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
    running = await startFront(await startBackend(options));
  } catch (error) {
    await send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  await send({ type: 'ready', port: running.port });
}

await main();
