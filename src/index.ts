/**
 * evloop's public API. The lab, the UI and the CLI use the library only through this module,
 * exactly as a user would.
 */
export * from './errors.js';
export { READABLE, WRITABLE, ERROR, HANGUP, ReadyEvents, type Poller, type PollerName } from './poller/poller.js';
export { createPoller, POLLER_NAMES } from './poller/default.js';
export * from './loop/index.js';
export { SysError } from './sys/index.js';
// Low-level fd helpers and the raw calls (results are -errno on failure) for the lab and benches.
export { procStat, cpuTicks } from './sys/index.js';
export { C, E, sys, pipe, socketpair, close, eventfd, eventfdSignal, eventfdDrain, setNonBlocking, isOpenFd } from './sys/index.js';
// Signals as loop events.
export { watchSignal, SignalWatcher, type SignalEvent, type SignalHandler } from './loop/signals.js';
// Coroutines: tasks, cancellation, timeouts, task groups.
export * from './async/index.js';
// Networking: transports/protocols, servers, connections, UDP, streams.
export * from './net/index.js';
// Child processes with evloop streams, and the blocking-work pool.
export { spawnChild, ChildProcess, type ChildOptions, type ChildExit, type ChildExitEvent, type StdioMode } from './process/child.js';
export { createPool, WorkerPool, JobError, jobRef, JOBS, type JobRef, type PoolOptions, type RunOptions } from './process/pool.js';
// Sockets, networking, the HTTP server and the blocking-work pool (the lab's servers and clients).
export { check, socket, bind, listen, accept, connect as connectSocket, localAddress, setReuseAddr, setReusePort, setNoDelay, setSockOptInt, type SocketAddress } from './sys/index.js';
export { connect, createServer, Server, type Protocol, type Transport } from './net/index.js';
export { createHttpServer, HttpServer, type HttpServerOptions } from './http/server.js';
export type { HttpHandler } from './http/connection.js';
// HTTP/1.1: parser, server, fetch adapter, multi-core, client.
export * from './http/index.js';
