/**
 * What `request()` resolves with: status, headers, and a body to read once. Reading is
 * incremental (`for await`), with backpressure; `text()`, `json()`, `arrayBuffer()` and
 * `bytes()` read it all.
 */
import type { HttpMessageHead } from '../parser.js';
import { ClientHeaders } from './headers.js';
import type { ResponseBody } from './response-body.js';

/**
 * @example
 * const res = await request('http://127.0.0.1:8080/items');
 * if (res.status === 200) console.log(await res.json());
 * else res.body.cancel(); // not reading it: the connection is closed, not reused
 */
export class ClientResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: ClientHeaders;
  readonly body: ResponseBody;
  /** '1.1' or '1.0'. */
  readonly httpVersion: string;
  /** The URL this response answers (after redirects). */
  readonly url: string;
  /** True when at least one redirect was followed to get here. */
  readonly redirected: boolean;

  constructor(head: HttpMessageHead, body: ResponseBody, url: string, redirected: boolean) {
    this.status = head.statusCode;
    this.statusText = head.statusText;
    this.headers = new ClientHeaders(head.headers);
    this.httpVersion = `${head.versionMajor}.${head.versionMinor}`;
    this.body = body;
    this.url = url;
    this.redirected = redirected;
  }

  /** Status 200–299. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  text(): Promise<string> {
    return this.body.text();
  }

  json<T = unknown>(): Promise<T> {
    return this.body.json<T>();
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.body.arrayBuffer();
  }

  bytes(): Promise<Buffer> {
    return this.body.bytes();
  }
}
