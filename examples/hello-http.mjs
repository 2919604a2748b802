// An HTTP server on evloop's reactor, and evloop's client asking it one question.
// Run: node examples/hello-http.mjs
import { request, serve } from 'evloop';

const server = await serve((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello from evloop: ${req.method} ${req.url}\n`);
}, { port: 0, host: '127.0.0.1' });
const { port } = server.address();

const res = await request(`http://127.0.0.1:${port}/greeting`);
console.log(res.status, (await res.text()).trim());
await server.close();
