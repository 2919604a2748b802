/**
 * The app of `evloop serve`: GET / → "Hello, World!", POST /echo → the body back (streamed,
 * with backpressure, same Content-Type), GET /stats → loop and server statistics as JSON.
 * It also runs in each worker of a multi-core server (cluster-worker.ts loads it).
 */
import type { HttpHandler } from 'evloop';
import { prepareHeaders } from 'evloop';

const HELLO = 'Hello, World!';
const TEXT = prepareHeaders({ 'Content-Type': 'text/plain' });
const NOT_FOUND = prepareHeaders({ 'Content-Type': 'text/plain' });

/** What /stats shows: a function so the numbers are read at request time. */
export type StatsSource = () => Record<string, unknown>;

/**
 * @example
 * const server = await serve(createDemoHandler(() => ({ loop: loop.stats() })), { port: 8080 });
 */
export function createDemoHandler(stats: StatsSource): HttpHandler {
  return (req, res) => {
    const target = req.path; // the absolute-form (GET http://h/echo) routes by its path too
    if (target === '/') {
      if (req.method === 'GET' || req.method === 'HEAD') return res.end(HELLO, TEXT);
    } else if (target === '/echo') {
      if (req.method === 'POST') return echo(req, res);
    } else if (target === '/stats') {
      if (req.method === 'GET') {
        res.setHeader('Content-Type', 'application/json');
        return res.end(JSON.stringify({ pid: process.pid, ...stats() }));
      }
    } else {
      res.statusCode = 404;
      return res.end('Not Found\n', NOT_FOUND);
    }
    res.writeHead(405, { Allow: target === '/echo' ? 'POST' : 'GET, HEAD' }).end();
  };
}

const echo: HttpHandler = async (req, res) => {
  res.setHeader('Content-Type', req.header('content-type') ?? 'application/octet-stream');
  const len = req.header('content-length');
  if (len !== undefined) res.setHeader('Content-Length', len);
  for await (const chunk of req) if (!res.write(chunk)) await res.drain();
  res.end();
};
