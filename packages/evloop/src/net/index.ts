/** evloop networking: transports/protocols, TCP/unix servers and clients, UDP, streams. */
export type { Protocol, BufferedProtocol, AnyProtocol, ProtocolFactory, Transport } from './protocol.js';
export { SocketTransport, type SocketTransportOptions } from './stream-transport.js';
export { Server, createServer, startListening, defaultMaxConnections, type ServerOptions, type ServerStats } from './server.js';
export { connect, connectUnix, type ConnectOptions } from './connect.js';
export { createDatagramEndpoint, DatagramTransport, type DatagramProtocol, type DatagramEndpointOptions } from './udp.js';
export { StreamReader } from './stream-reader.js';
export { StreamWriter } from './stream-writer.js';
export { StreamReaderProtocol, openConnection, openUnixConnection, startServer, type Stream, type StreamHandler, type StreamOptions } from './streams.js';
export { EchoProtocol } from './echo.js';
export { resolveHost, type IpFamily } from './resolve.js';
export { readStrategy, setReadStrategy, type ReadStrategy } from './read-strategy.js';
export { IncompleteReadError, LimitOverrunError, CancelledError, NET_CODES } from './errors.js';
