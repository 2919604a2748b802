/**
 * How a stream transport reads when its socket is readable (measured in docs/net.md):
 * - `'once'`: one recv per readiness event (asyncio). Level-triggered polling calls again if more
 *   is left, so nothing is lost; costs one epoll round per 64 KiB under bulk transfer.
 * - `'short'`: recv again only while a read filled the whole buffer; a short read means the
 *   kernel buffer was drained, so no recv is spent on EAGAIN.
 * - `'drain'`: recv until EAGAIN (bounded per event), one extra failing recv per event.
 *
 * The default is the fastest measured ('short'); EVLOOP_READ_STRATEGY overrides it for
 * experiments and benchmarks.
 */
export type ReadStrategy = 'once' | 'short' | 'drain';

const fromEnv = process.env.EVLOOP_READ_STRATEGY;
let current: ReadStrategy = fromEnv === 'once' || fromEnv === 'drain' || fromEnv === 'short' ? fromEnv : 'short';

/** The strategy new reads use. */
export function readStrategy(): ReadStrategy {
  return current;
}

/** Changes the strategy (for measurements). @example setReadStrategy('drain') */
export function setReadStrategy(s: ReadStrategy): void {
  current = s;
}
