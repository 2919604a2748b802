// A line-echo TCP server and client with evloop's streams (reader/writer over the reactor).
// Run: node examples/tcp-echo-streams.mjs
import { openConnection, startServer } from 'evloop';

const server = await startServer(async (reader, writer) => {
  for await (const line of reader.lines()) writer.write(`echo: ${line}`);
}, { host: '127.0.0.1', port: 0 });
const { port } = server.address();

const { reader, writer } = await openConnection('127.0.0.1', port);
for (const word of ['one', 'two', 'three']) {
  writer.write(`${word}\n`);
  await writer.drain();
  console.log(String(await reader.readLine()).trim());
}
writer.close();
await writer.closed();
await server.close();
