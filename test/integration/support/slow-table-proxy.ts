import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A DynamoDB proxy that can make one table slow; see {@link startSlowTableProxy}. */
export interface SlowTableProxy {
  /** `http://127.0.0.1:<port>`: point `AWS_ENDPOINT_URL_DYNAMODB` here. */
  readonly endpoint: string;
  /** Where requests go. Set once the real server is up; until then requests get 503 (SDKs retry). */
  setUpstream(endpoint: string): void;
  /** Delays every request naming `table` by `delayMs` before forwarding it; 0 removes the delay. */
  slowDown(table: string, delayMs: number): void;
  /** Requests delayed so far, per table. */
  delayed(table: string): number;
  close(): Promise<void>;
}

/** The tables a DynamoDB JSON request names: `TableName`, or the keys of `RequestItems`. */
function tablesOf(body: Buffer): string[] {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      TableName?: unknown;
      RequestItems?: Record<string, unknown>;
    };
    const names = typeof parsed.TableName === 'string' ? [parsed.TableName] : [];
    return names.concat(Object.keys(parsed.RequestItems ?? {}));
  } catch {
    return [];
  }
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Harness-side fault injection: an HTTP proxy in front of the DynamoDB server that delays the
 * requests of chosen tables and forwards everything else untouched. The functions under test
 * are unmodified; only their `AWS_ENDPOINT_URL_DYNAMODB` points here. Bound to 127.0.0.1.
 */
export async function startSlowTableProxy(): Promise<SlowTableProxy> {
  let upstream: URL | undefined;
  const delays = new Map<string, number>();
  const delayedCounts = new Map<string, number>();
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (!upstream) {
        response.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
        response.end('{"__type":"ServiceUnavailable","message":"proxy has no upstream yet"}');
        return;
      }
      const delayMs = Math.max(0, ...tablesOf(body).map((table) => delays.get(table) ?? 0));
      if (delayMs > 0) {
        for (const table of tablesOf(body))
          if (delays.has(table)) delayedCounts.set(table, (delayedCounts.get(table) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        (upstreamResponse) => {
          response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(response);
        },
      );
      forwarded.on('error', (error) => {
        if (!response.headersSent) response.writeHead(502);
        response.end(String(error));
      });
      forwarded.end(body);
    })().catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    setUpstream(endpoint) {
      upstream = new URL(endpoint);
    },
    slowDown(table, delayMs) {
      if (delayMs > 0) delays.set(table, delayMs);
      else delays.delete(table);
    },
    delayed: (table) => delayedCounts.get(table) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
