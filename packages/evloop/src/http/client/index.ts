/** evloop's HTTP/1.1 client: keep-alive pools, streamed bodies both ways, timeouts, AbortSignal. */
export { Client, request, getDefaultClient, type ClientOptions, type RequestOptions, type Timeouts } from './client.js';
export { ClientResponse } from './response.js';
export { ResponseBody } from './response-body.js';
export { ClientHeaders, type HeadersInit } from './headers.js';
export type { RequestBodyInit } from './request-writer.js';
export { HttpClientError, ClientAbortError, ClientTimeoutError, HTTP_CLIENT_CODES } from './errors.js';
