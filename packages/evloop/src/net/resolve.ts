/**
 * Host names to socket addresses without blocking the loop: IP literals are used as they are;
 * names go to node:dns `lookup` (getaddrinfo on libuv's threadpool, so /etc/hosts is honoured:
 * 'localhost' → 127.0.0.1 and/or ::1, in the system's order).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { EvloopError } from '../errors.js';
import type { SocketAddress } from '../sys/index.js';

export type IpFamily = 4 | 6;

/** An IP socket address (never unix). */
export type IpSocketAddress = Extract<SocketAddress, { family: 'IPv4' | 'IPv6' }>;

/**
 * Resolves `host` to every address it has, each with `port`.
 * Throws EvloopError ERR_DNS (code of the lookup in `cause`) when the name does not resolve.
 *
 * @example
 * const [first] = await resolveHost('localhost', 80); // { family: 'IPv4', address: '127.0.0.1', port: 80 }
 */
export async function resolveHost(host: string, port: number, family?: IpFamily): Promise<IpSocketAddress[]> {
  const literal = isIP(host);
  if (literal === 4) return [{ family: 'IPv4', address: host, port }];
  if (literal === 6) return [{ family: 'IPv6', address: host, port }];
  let found: { address: string; family: number }[];
  try {
    found = await lookup(host, { all: true, family: family ?? 0 });
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'UNKNOWN';
    throw new EvloopError('ERR_DNS', `cannot resolve ${host}: ${code}`, { cause: err });
  }
  if (found.length === 0) throw new EvloopError('ERR_DNS', `cannot resolve ${host}: no address`);
  return found.map((a) => (a.family === 6 ? { family: 'IPv6', address: a.address, port } : { family: 'IPv4', address: a.address, port }));
}
