/** HTTP/1.1 on the reactor: parser, server (native handlers and fetch adapter), multi-core, client. */
export { HttpParser, DEFAULT_HTTP_PARSER_LIMITS, type HttpParserKind, type HttpMessageHead, type HttpParserHandlers, type HttpParserLimits } from './parser.js';
export { HttpParseError, HTTP_PARSE_ERROR_STATUS, type HttpParseErrorCode } from './errors.js';
export { HttpServer, createHttpServer, serve, HTTP_SERVER_CODES, type HttpServerOptions, type HttpServerStats, type CloseOptions } from './server.js';
export type { HttpHandler } from './connection.js';
export { ServerRequest } from './request.js';
export { ServerResponse } from './response.js';
export { prepareHeaders, PreparedHeaders, type HeaderInit, type HeaderValue } from './headers.js';
export { fetchHandler, toWebRequest, type FetchApp, type FetchAdapterOptions } from './fetch-adapter.js';
export { serveCluster, type ClusterOptions, type Cluster } from './cluster.js';
export type { HandlerFactory } from './cluster-worker.js';
export * from './client/index.js';
