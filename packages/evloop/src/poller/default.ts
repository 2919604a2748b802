/**
 * Picks a poller backend: an explicit name, else the EVLOOP_POLLER environment variable, else
 * the best one this kernel has (epoll > poll > select).
 */
import { EvloopError } from '../errors.js';
import { EpollPoller } from './epoll.js';
import { PollPoller } from './poll.js';
import type { Poller, PollerName } from './poller.js';
import { SelectPoller } from './select.js';

/** Every backend, best first. */
export const POLLER_NAMES = ['epoll', 'poll', 'select'] as const satisfies readonly PollerName[];

const CONSTRUCTORS: Record<PollerName, new () => Poller> = {
  epoll: EpollPoller,
  poll: PollPoller,
  select: SelectPoller,
};

function isPollerName(name: string): name is PollerName {
  return (POLLER_NAMES as readonly string[]).includes(name);
}

function invalid(name: unknown, where: string): EvloopError {
  return new EvloopError(
    'ERR_INVALID_ARG',
    `unknown poller ${JSON.stringify(name)}${where}; valid names: ${POLLER_NAMES.join(', ')} (or auto)`,
  );
}

/**
 * Creates a poller. `name` (or 'auto' / omitted → EVLOOP_POLLER, then the best available).
 * Unknown names, in the argument or the environment, throw EvloopError `ERR_INVALID_ARG`.
 *
 * @example
 * const poller = createPoller();          // epoll on Linux
 * const lab = createPoller('select');     // for comparisons
 * // EVLOOP_POLLER=poll node app.js      → poll
 */
export function createPoller(name: PollerName | 'auto' = 'auto'): Poller {
  if (name !== 'auto') {
    if (typeof name !== 'string' || !isPollerName(name)) throw invalid(name, '');
    return new CONSTRUCTORS[name]();
  }
  const env = process.env.EVLOOP_POLLER;
  if (env !== undefined && env !== '' && env !== 'auto') {
    if (!isPollerName(env)) throw invalid(env, ' in EVLOOP_POLLER');
    return new CONSTRUCTORS[env]();
  }
  let firstError: unknown;
  for (const candidate of POLLER_NAMES) {
    try {
      return new CONSTRUCTORS[candidate]();
    } catch (err) {
      // e.g. epoll_create1 → ENOSYS on a kernel without epoll: try the next one.
      firstError ??= err;
    }
  }
  throw firstError;
}
