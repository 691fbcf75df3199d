/**
 * One cleartext port that speaks both HTTP/1.1 and HTTP/2, so every AWS SDK v3 client works with
 * its default request handler: most clients send HTTP/1.1, but `@aws-sdk/client-kinesis` defaults
 * to `NodeHttp2Handler`, which opens an `http://` endpoint with HTTP/2 "prior knowledge" (h2c: the
 * connection starts with the HTTP/2 preface, no Upgrade). Node's `allowHTTP1` only works with TLS
 * (it relies on ALPN), so the protocol is chosen here from the connection's first bytes.
 *
 * Erasable TypeScript and no project imports: the server child (`server-main.mts`) loads this file
 * directly under Node's type stripping.
 * @see https://www.rfc-editor.org/rfc/rfc9113#section-3.3
 */

import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createNetServer, type Socket } from 'node:net';

/** A request of either protocol, as Node's HTTP/1.1 server or HTTP/2 compatibility API gives it. */
export type AnyRequest = IncomingMessage | Http2ServerRequest;
/** The response that goes with {@link AnyRequest}. */
export type AnyResponse = ServerResponse | Http2ServerResponse;

export interface Http1And2Server {
  readonly port: number;
  /** Stops listening and drops every open connection of both protocols. */
  close(): Promise<void>;
}

/** Every HTTP/2 connection starts with these bytes; no HTTP/1.x request line can. */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Headers that belong to one HTTP/1.1 connection. HTTP/2 forbids them (Node throws on them), so a
 * response relayed from an HTTP/1.1 backend to an HTTP/2 client drops them.
 * @see https://www.rfc-editor.org/rfc/rfc9113#section-8.2.2
 */
const CONNECTION_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

/** Whether a header may be sent in an HTTP/2 response. */
export function isHttp2ResponseHeader(name: string): boolean {
  return !CONNECTION_HEADERS.has(name.toLowerCase());
}

/** Whether the request arrived over HTTP/2. */
export function isHttp2(request: AnyRequest): request is Http2ServerRequest {
  return request.httpVersionMajor === 2;
}

/**
 * Listens on `host` (a free port) and serves both protocols with one handler. The handler gets
 * Node's HTTP/1.1 objects or the HTTP/2 compatibility objects; both have `headers`, `method`,
 * `url`, `writeHead` and are streams.
 */
export async function listenHttp1And2(
  host: string,
  handler: (request: AnyRequest, response: AnyResponse) => void,
): Promise<Http1And2Server> {
  const http1 = createHttp1Server(handler);
  const http2 = createHttp2Server(handler);
  const sockets = new Set<Socket>();
  const front = createNetServer(function sniffProtocol(socket) {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let head = Buffer.alloc(0);
    const onReadable = (): void => {
      const chunk = socket.read() as Buffer | null;
      if (chunk !== null) head = Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, HTTP2_PREFACE.length);
      const maybeHttp2 = head.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      // A prefix of the preface may still turn out either way: wait for more bytes.
      if (head.length === 0 || (maybeHttp2 && head.length < HTTP2_PREFACE.length)) return;
      socket.off('readable', onReadable);
      socket.unshift(head);
      (maybeHttp2 ? http2 : http1).emit('connection', socket);
    };
    socket.on('readable', onReadable);
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, host, () => resolve());
  });
  const address = front.address();
  if (address === null || typeof address === 'string') {
    throw new Error(`unexpected server address ${String(address)}`);
  }
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        http1.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      }),
  };
}
