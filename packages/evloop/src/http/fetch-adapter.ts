/**
 * The fetch adapter: serves a Web-standard `(Request) => Response` function (Hono, itty, any
 * fetch-style app) on the native server. Bodies stream both ways: the request body is a
 * ReadableStream pulled from the socket with backpressure; the response body is read chunk by
 * chunk and written with `res.write`/`await res.drain()`. A response body that is already
 * complete (a string, a buffer) goes out with a Content-Length in one write, like `res.end`.
 */
import type { HttpHandler } from './connection.js';
import type { ServerRequest } from './request.js';
import type { ServerResponse } from './response.js';

/** A fetch-style application. */
export type FetchApp = (request: Request) => Response | Promise<Response>;

export interface FetchAdapterOptions {
  /** Scheme of the URLs built for requests. Default 'http'. */
  scheme?: 'http' | 'https';
}

const NO_BODY_METHODS = new Set(['GET', 'HEAD']);
/** Resolves on the next macrotask: by then an in-memory body has yielded everything it has. */
const LATER = Symbol('later');
const later = (): Promise<typeof LATER> => new Promise((r) => setImmediate(r, LATER));

/**
 * Wraps a fetch-style app as a native handler.
 *
 * @example
 * import { Hono } from 'hono';
 * const app = new Hono().get('/', (c) => c.text('Hello, World!'));
 * const server = await serve(fetchHandler(app.fetch), { port: 8080 });
 */
export function fetchHandler(app: FetchApp, options: FetchAdapterOptions = {}): HttpHandler {
  const scheme = options.scheme ?? 'http';
  return (req, res) => respond(app, scheme, req, res);
}

/**
 * The URL of a native request (RFC 9112 §3.3), built only from parts the server validated
 * (semantics.ts): `req.host` — the absolute-form's authority, else the Host header, which the
 * server refused unless it is `uri-host [ ":" port ]`, so a Host like `evil/..` or `a@b` never
 * becomes a path or userinfo — and `req.path`. An absolute-form keeps its own scheme; an empty or
 * absent Host (HTTP/1.0) gives `localhost`; `*` and CONNECT give the authority's root.
 *
 * @example
 * webUrl(req, 'https'); // 'https://example.com:8443/a?b' for GET /a?b with Host: example.com:8443
 */
export function webUrl(req: ServerRequest, scheme = 'http'): string {
  const target = req.target;
  const host = req.host || 'localhost';
  if (target.charCodeAt(0) === 0x2f) return `${scheme}://${host}${target}`;
  if (target === '*' || req.method === 'CONNECT') return `${scheme}://${host}/`;
  return `${target.slice(0, target.indexOf(':')).toLowerCase()}://${host}${req.path}`;
}

/**
 * Builds the Web Request of a native request (URL: `webUrl`). Throws the `TypeError` of
 * `new Request` when the WHATWG URL parser refuses a host RFC 3986 allows (`999.1.1.1`,
 * `a%2Fb`, `[v1.x]`); `fetchHandler` answers those 400.
 */
export function toWebRequest(req: ServerRequest, scheme = 'http'): Request {
  const url = webUrl(req, scheme);
  const headers = new Headers();
  const h = req.headers;
  for (let i = 0; i < h.length; i += 2) headers.append(h[i]!, h[i + 1]!);
  // no `signal`: an AbortSignal per request costs more than the rest of the adapter (Node makes it transferable)
  const init: RequestInit & { duplex?: 'half' } = { method: req.method, headers };
  if (req.hasBody && !NO_BODY_METHODS.has(req.method)) {
    init.body = req.stream();
    init.duplex = 'half';
  }
  return new Request(url, init);
}

async function respond(app: FetchApp, scheme: string, req: ServerRequest, res: ServerResponse): Promise<void> {
  let request: Request;
  try {
    request = toWebRequest(req, scheme);
  } catch (err) {
    if (URL.canParse(webUrl(req, scheme))) throw err;
    res.statusCode = 400; // a valid URI host the fetch API cannot represent: the client's fault
    return res.end();
  }
  const response = await app(request);
  if (res.closed) {
    await response.body?.cancel();
    return;
  }
  res.statusCode = response.status;
  let hasLength = false;
  try {
    response.headers.forEach((value, name) => {
      if (name === 'set-cookie') return;
      if (name === 'content-length') hasLength = true;
      res.appendHeader(name, value);
    });
    for (const c of response.headers.getSetCookie()) res.appendHeader('set-cookie', c);
  } catch (err) {
    // Web Headers lets controls such as \x01 and \x7f through; appendHeader refuses them
    // (ERR_HTTP_INVALID_HEADER → a 500). The app's body is then not wanted: release its source.
    await response.body?.cancel(err).catch(() => {});
    throw err;
  }
  const body = response.body;
  if (body === null) return res.end();
  const reader = body.getReader();
  try {
    const first = await reader.read();
    if (first.done) return res.end();
    if (!hasLength) {
      // complete already (one in-memory chunk)? Then send it with a Content-Length, no chunking.
      const next = reader.read();
      const second = await Promise.race([next, later()]);
      if (second !== LATER && second.done) return res.end(first.value);
      if (!res.write(first.value)) await res.drain();
      if (second !== LATER) {
        if (!res.write(second.value)) await res.drain();
      } else {
        const r = await next;
        if (r.done) return res.end();
        if (!res.write(r.value)) await res.drain();
      }
    } else if (!res.write(first.value)) await res.drain();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      if (!res.write(r.value)) await res.drain();
    }
    res.end();
  } catch (err) {
    await reader.cancel(err).catch(() => {});
    throw err;
  }
}
