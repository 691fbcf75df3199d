/**
 * Who may talk to a local API server: programs on this machine (SDKs, the AWS CLI, scripts), never a
 * web page. Binding to 127.0.0.1 is not enough on its own: a page open in a browser on the same
 * machine can still send requests to `http://127.0.0.1:<port>` (a `text/plain` POST needs no CORS
 * preflight), and through DNS rebinding (a name of the attacker's that resolves to 127.0.0.1) it can
 * also read the answers. So every request must name a loopback Host with the server's own port, and
 * carry none of the headers that only browsers send on a page's behalf.
 *
 * Erasable TypeScript and no project imports: the server child (`server-main.mts`) loads this file
 * directly under Node's type stripping.
 * @see https://fetch.spec.whatwg.org/#origin-header
 * @see https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 */

/**
 * The request headers the guard reads, as Node's `IncomingMessage.headers` (HTTP/1.1) or
 * `Http2ServerRequest.headers` (HTTP/2, with `:authority`) hold them.
 */
export type GuardedHeaders = Readonly<Record<string, string | string[] | undefined>>;

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * Why a request must be refused, or `undefined` when it may be served.
 * @param headers the request's headers (lower-case names, as Node gives them)
 * @param port the port the server listens on: a Host naming any other port is not this server
 */
export function foreignRequestReason(headers: GuardedHeaders, port: number): string | undefined {
  // HTTP/2 names the host in `:authority`; a client may send `host` too, and then both must pass.
  const names = [headers.host, headers[':authority']]
    .map((value) => single(value)?.toLowerCase())
    .filter((value) => value !== undefined);
  const foreign = names.find((name) => !allowedHosts(port).includes(name));
  if (names.length === 0 || foreign !== undefined) {
    return `Host ${foreign === undefined ? '(none)' : JSON.stringify(foreign)} is not this loopback server (expected 127.0.0.1:${port}, localhost:${port} or [::1]:${port})`;
  }
  // Browsers add Origin to every cross-origin request and to every POST; programs do not.
  if (headers.origin !== undefined) {
    return `requests from a browser origin (${single(headers.origin)}) are refused`;
  }
  // `none` is a navigation the user typed; any other value means a page made the request.
  const site = single(headers['sec-fetch-site']);
  if (site !== undefined && site !== 'none') {
    return `requests made by a web page (Sec-Fetch-Site: ${site}) are refused`;
  }
  return undefined;
}

function allowedHosts(port: number): string[] {
  const withPort = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  // A client leaves the port out of Host only when it is the scheme's default.
  return port === 80 ? [...withPort, ...LOOPBACK_NAMES] : withPort;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** CORS response headers: a server that sends them lets pages read its answers. */
export function isCorsHeader(name: string): boolean {
  return name.toLowerCase().startsWith('access-control-');
}
