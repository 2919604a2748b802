/**
 * The HTTP/1.1 client: `Client` (an agent owning one keep-alive pool per origin) and the
 * `request()` shortcut on a shared default client. http: only; https is refused with
 * ERR_UNSUPPORTED_PROTOCOL. Redirects are off by default (a 3xx is returned as it is).
 */
import { getDefaultLoop, type Loop } from '../../loop/loop.js';
import { isHeaderName } from '../headers.js';
import { abortError, HTTP_CLIENT_CODES, HttpClientError } from './errors.js';
import { flattenHeaders, withoutFields, type HeadersInit } from './headers.js';
import { OriginPool } from './pool.js';
import { prepareBody, serializeHead, type PreparedBody, type RequestBodyInit } from './request-writer.js';
import { ClientResponse } from './response.js';
import { DEFAULT_BODY_HIGH_WATER } from './response-body.js';

/** Per-phase timeouts in ms (0 or Infinity: none). */
export interface Timeouts {
  /** DNS + TCP handshake → ERR_CONNECT_TIMEOUT. */
  connect?: number;
  /** From the end of the request to the end of the response head → ERR_HEADERS_TIMEOUT. */
  headers?: number;
  /** Longest silence between pieces of the response body, or of a streamed request body being sent → ERR_BODY_TIMEOUT. */
  body?: number;
}

export interface ClientOptions {
  /** Connections per origin, open or connecting; more requests wait their turn. Default 16. */
  maxSocketsPerOrigin?: number;
  /** An unused keep-alive connection is closed after this long. Default 4000 ms. */
  idleTimeoutMs?: number;
  /** false: one connection per request, `Connection: close`. Default true. */
  keepAlive?: boolean;
  /** Defaults: connect 10 s, headers 300 s, body 300 s. */
  timeouts?: Timeouts;
  /** Redirects followed by default. Default 0: a 3xx response is returned as it is. */
  maxRedirects?: number;
  /** Unread body bytes above which the socket is paused. Default 64 KiB. */
  bodyHighWaterMark?: number;
  loop?: Loop;
}

export interface RequestOptions {
  url: string | URL;
  /** Default GET. Standard methods are upper-cased, others sent as given. */
  method?: string;
  headers?: HeadersInit;
  /** Strings/bytes go with Content-Length; async iterables and ReadableStreams are chunked. */
  body?: RequestBodyInit;
  /** Aborts at any stage with ABORT_ERR; the connection is closed, never reused. */
  signal?: AbortSignal;
  /** One number for every phase, or per phase; overrides the client's. */
  timeoutMs?: number | Timeouts;
  /** Redirects to follow; overrides the client's (default 0). */
  maxRedirects?: number;
  /** The client (pool) to use for `request()`; false: a fresh connection, closed afterwards. */
  pool?: Client | false;
}

const DEFAULT_TIMEOUTS: Required<Timeouts> = { connect: 10_000, headers: 300_000, body: 300_000 };
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Failures of a reused connection that mean "the server had closed it": safe to retry. */
const STALE_CONNECTION_CODES = new Set(['ERR_CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_TRANSPORT_CLOSED']);
const BODY_FIELDS = new Set(['content-length', 'content-type', 'content-encoding', 'content-language', 'content-location', 'transfer-encoding']);
const CREDENTIAL_FIELDS = new Set(['authorization', 'proxy-authorization', 'cookie', 'host']);

/**
 * An agent: keep-alive pools per origin, default timeouts and redirect policy.
 *
 * @example
 * const client = new Client({ maxSocketsPerOrigin: 4, timeouts: { headers: 5000 } });
 * const res = await client.request({ url: 'http://127.0.0.1:8080/upload', method: 'POST', body: 'hi' });
 * console.log(res.status, await res.text());
 * client.close();
 */
export class Client {
  readonly #loop: Loop;
  readonly #maxSockets: number;
  readonly #idleTimeoutMs: number;
  readonly #keepAlive: boolean;
  readonly #timeouts: Required<Timeouts>;
  readonly #maxRedirects: number;
  readonly #highWater: number;
  #pools = new Map<string, OriginPool>();
  #closed = false;

  constructor(options: ClientOptions = {}) {
    this.#loop = options.loop ?? getDefaultLoop();
    this.#maxSockets = positive('maxSocketsPerOrigin', options.maxSocketsPerOrigin ?? 16, true);
    this.#idleTimeoutMs = nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? 4000);
    this.#keepAlive = options.keepAlive ?? true;
    this.#timeouts = { ...DEFAULT_TIMEOUTS, ...checkTimeouts(options.timeouts) };
    this.#maxRedirects = nonNegative('maxRedirects', options.maxRedirects ?? 0);
    this.#highWater = positive('bodyHighWaterMark', options.bodyHighWaterMark ?? DEFAULT_BODY_HIGH_WATER, false);
  }

  /** Per origin ('http://host:port'): connections open, idle, requests queued, connections created. */
  stats(): Record<string, { open: number; idle: number; queued: number; created: number }> {
    return Object.fromEntries([...this.#pools].map(([origin, p]) => [origin, p.stats]));
  }

  /**
   * Sends a request; resolves once the response head arrived. Read (or cancel) the body: an
   * unread body holds its connection.
   *
   * @example
   * const res = await client.request('http://127.0.0.1:8080/');
   * for await (const chunk of res.body) console.log(chunk.length);
   */
  async request(input: string | URL | RequestOptions, init: Omit<RequestOptions, 'url'> = {}): Promise<ClientResponse> {
    const opts: RequestOptions = typeof input === 'string' || input instanceof URL ? { ...init, url: input } : input;
    if (this.#closed) throw new HttpClientError(HTTP_CLIENT_CODES.CLIENT_CLOSED, 'the client is closed');
    const { signal } = opts;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, 'signal must be an AbortSignal');
    if (signal?.aborted) throw abortError(signal);
    let url = parseUrl(opts.url);
    let method = checkMethod(opts.method ?? 'GET');
    let fields = flattenHeaders(opts.headers);
    let body = prepareBody(opts.body);
    const timeouts = { ...this.#timeouts, ...checkTimeouts(opts.timeoutMs) };
    const maxRedirects = nonNegative('maxRedirects', opts.maxRedirects ?? this.#maxRedirects);
    for (let followed = 0; ; followed++) {
      const res = await this.#send(url, method, fields, body, signal, timeouts, followed > 0);
      const location = res.headers.get('location');
      if (maxRedirects === 0 || location === null || !REDIRECTS.has(res.status)) return res;
      const keepsMethod = res.status === 307 || res.status === 308;
      // A streamed body was consumed by the first attempt: it cannot be sent again.
      if (keepsMethod && body.kind === 'stream') return res;
      if (followed >= maxRedirects) {
        res.body.cancel();
        throw new HttpClientError(HTTP_CLIENT_CODES.TOO_MANY_REDIRECTS, `more than ${maxRedirects} redirects (last to ${location})`);
      }
      let next: URL;
      try {
        next = parseUrl(new URL(location, url));
      } catch (err) {
        res.body.cancel();
        throw err;
      }
      // The 3xx body is not wanted; one that already arrived costs nothing and keeps the connection.
      if (res.body.complete) await res.body.dump();
      else res.body.cancel();
      if (!keepsMethod && method !== 'HEAD' && (method !== 'GET' || body.kind !== 'none')) {
        method = 'GET';
        body = { kind: 'none' };
        fields = withoutFields(fields, BODY_FIELDS);
      }
      if (next.origin !== url.origin) fields = withoutFields(fields, CREDENTIAL_FIELDS);
      url = next;
    }
  }

  async #send(
    url: URL, method: string, fields: string[], body: PreparedBody, signal: AbortSignal | undefined,
    timeouts: Required<Timeouts>, redirected: boolean,
  ): Promise<ClientResponse> {
    let allFields = fields;
    if ((url.username !== '' || url.password !== '') && !fields.some((f, i) => i % 2 === 0 && f.toLowerCase() === 'authorization')) {
      const cred = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      allFields = [...fields, 'Authorization', `Basic ${Buffer.from(cred).toString('base64')}`];
    }
    // Built before connecting: a bad header fails without opening anything.
    const head = serializeHead({ method, target: `${url.pathname}${url.search}`, host: url.host, fields: allFields, body, keepAlive: this.#keepAlive });
    const pool = this.#poolFor(url);
    for (let attempt = 0; ; attempt++) {
      const conn = await pool.acquire(signal, timeouts.connect);
      const reused = conn.exchanges > 0;
      try {
        const start = await conn.send({ method, head, body, signal, headersTimeoutMs: timeouts.headers, bodyTimeoutMs: timeouts.body, highWaterMark: this.#highWater });
        return new ClientResponse(start.head, start.body, url.href, redirected);
      } catch (err) {
        // A kept-alive connection the server had already closed: nothing was processed, send again.
        const stale = reused && !conn.sawResponseBytes && STALE_CONNECTION_CODES.has((err as { code?: string }).code ?? '');
        if (attempt === 0 && stale && IDEMPOTENT.has(method) && body.kind !== 'stream' && !signal?.aborted) continue;
        throw err;
      }
    }
  }

  #poolFor(url: URL): OriginPool {
    const port = url.port === '' ? 80 : Number(url.port);
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const key = `http://${url.hostname}:${port}`;
    let pool = this.#pools.get(key);
    if (pool === undefined) {
      pool = new OriginPool({ loop: this.#loop, host, port, maxSockets: this.#maxSockets, idleTimeoutMs: this.#idleTimeoutMs, keepAlive: this.#keepAlive });
      this.#pools.set(key, pool);
    }
    return pool;
  }

  /** Closes idle connections and refuses new requests; requests under way finish first. */
  close(): void {
    this.#closed = true;
    for (const pool of this.#pools.values()) pool.close();
  }

  get closed(): boolean {
    return this.#closed;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Accepts http: URLs only; ERR_INVALID_URL, ERR_UNSUPPORTED_PROTOCOL otherwise. */
function parseUrl(input: string | URL): URL {
  let url: URL;
  try {
    url = input instanceof URL ? new URL(input.href) : new URL(input);
  } catch (err) {
    throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_URL, `invalid URL ${JSON.stringify(String(input))}`, { cause: err });
  }
  if (url.protocol !== 'http:') {
    throw new HttpClientError(HTTP_CLIENT_CODES.UNSUPPORTED_PROTOCOL, `${url.protocol} is not supported (http: only; no TLS in evloop)`);
  }
  if (url.hostname === '') throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_URL, `no host in ${url.href}`);
  return url;
}

function checkMethod(method: string): string {
  if (typeof method !== 'string' || method.length === 0) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, 'method must be a non-empty string');
  if (!isHeaderName(method)) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, `invalid method ${JSON.stringify(method)}`);
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.has(upper) ? upper : method;
}

function checkTimeouts(t: number | Timeouts | undefined): Timeouts {
  if (t === undefined) return {};
  if (typeof t === 'number') {
    nonNegative('timeoutMs', t, true);
    return { connect: t, headers: t, body: t };
  }
  const out: Timeouts = {};
  for (const k of ['connect', 'headers', 'body'] as const) if (t[k] !== undefined) out[k] = nonNegative(`timeouts.${k}`, t[k], true);
  return out;
}

function nonNegative(name: string, v: unknown, allowInfinity = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowInfinity && !Number.isFinite(v))) {
    throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, `${name} must be a number >= 0, got ${String(v)}`);
  }
  return v;
}

function positive(name: string, v: unknown, allowInfinity: boolean): number {
  const n = nonNegative(name, v, allowInfinity);
  if (n === 0 || (Number.isFinite(n) && !Number.isInteger(n))) throw new HttpClientError(HTTP_CLIENT_CODES.INVALID_ARG, `${name} must be a positive integer, got ${n}`);
  return n;
}

let defaultClient: Client | undefined;
let oneShotClient: Client | undefined;

/** The shared client behind `request()` (created on first use). */
export function getDefaultClient(): Client {
  if (defaultClient === undefined || defaultClient.closed) defaultClient = new Client();
  return defaultClient;
}

/**
 * Sends one request on the default client (or `options.pool`).
 *
 * @example
 * const res = await request('http://127.0.0.1:8080/hello');
 * console.log(res.status, res.headers.get('content-type'), await res.text());
 *
 * const ac = new AbortController();
 * const up = await request({ url: 'http://127.0.0.1:8080/up', method: 'POST', body: fileChunks(), signal: ac.signal, timeoutMs: 5000 });
 */
export function request(input: string | URL | RequestOptions, init: Omit<RequestOptions, 'url'> = {}): Promise<ClientResponse> {
  const opts: RequestOptions = typeof input === 'string' || input instanceof URL ? { ...init, url: input } : input;
  let client: Client;
  if (opts.pool === false) {
    if (oneShotClient === undefined) oneShotClient = new Client({ keepAlive: false, maxSocketsPerOrigin: Infinity });
    client = oneShotClient;
  } else client = opts.pool ?? getDefaultClient();
  return client.request(opts);
}
