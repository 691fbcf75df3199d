import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A DynamoDB proxy a test harness controls; see {@link startDynamoFaultProxy}. */
export interface DynamoFaultProxy {
  /** `http://127.0.0.1:<port>`: the functions' `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  /** Where requests go. Until set (the real server is still starting), requests get 503 and SDKs retry. */
  setUpstream(endpoint: string): void;
  /** While on, every request naming `table` gets a 500 (a sink outage). */
  outage(table: string, on: boolean): void;
  /** Holds the next request naming `table` for `delayMs` before forwarding it (a job timeout). */
  delayNext(table: string, delayMs: number): void;
  /** Delays every request naming `table` by `delayMs` (a slow sink); 0 removes the delay. */
  slowDown(table: string, delayMs: number): void;
  /** Requests delayed so far, per table. */
  delayed(table: string): number;
  /** What the proxy did so far, over all tables. */
  readonly counts: { outageErrors: number; delayed: number; forwarded: number };
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
 * Harness-side faults for DynamoDB: an HTTP proxy on 127.0.0.1 that fails, holds or slows the
 * requests of chosen tables and forwards everything else untouched. The functions under test are
 * unmodified; only their `AWS_ENDPOINT_URL_DYNAMODB` points here.
 */
export async function startDynamoFaultProxy(): Promise<DynamoFaultProxy> {
  let upstream: URL | undefined;
  const outages = new Set<string>();
  const oneOffDelays = new Map<string, number>();
  const standingDelays = new Map<string, number>();
  const delayedPerTable = new Map<string, number>();
  const counts = { outageErrors: 0, delayed: 0, forwarded: 0 };
  const agent = new Agent({ keepAlive: true, maxSockets: 128 });

  /** How long to hold a request naming these tables, counting it as delayed for each of them. */
  const delayFor = (tables: string[]): number => {
    let delayMs = 0;
    for (const table of tables) {
      const oneOff = oneOffDelays.get(table);
      oneOffDelays.delete(table);
      const tableDelay = Math.max(oneOff ?? 0, standingDelays.get(table) ?? 0);
      if (tableDelay > 0) delayedPerTable.set(table, (delayedPerTable.get(table) ?? 0) + 1);
      delayMs = Math.max(delayMs, tableDelay);
    }
    return delayMs;
  };

  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      if (!upstream) {
        response.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
        response.end('{"__type":"ServiceUnavailable","message":"proxy has no upstream yet"}');
        return;
      }
      const tables = tablesOf(body);
      if (tables.some((table) => outages.has(table))) {
        counts.outageErrors++;
        response.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(
          '{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected outage"}',
        );
        return;
      }
      const delayMs = delayFor(tables);
      if (delayMs > 0) {
        counts.delayed++;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      counts.forwarded++;
      const forwarded = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: request.method,
          path: request.url,
          // The emulator answers only requests addressed to its own host and port.
          headers: { ...request.headers, host: upstream.host },
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
    outage(table, on) {
      if (on) outages.add(table);
      else outages.delete(table);
    },
    delayNext(table, delayMs) {
      oneOffDelays.set(table, delayMs);
    },
    slowDown(table, delayMs) {
      if (delayMs > 0) standingDelays.set(table, delayMs);
      else standingDelays.delete(table);
    },
    delayed: (table) => delayedPerTable.get(table) ?? 0,
    counts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
