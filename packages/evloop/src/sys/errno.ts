/** errno numbers by name, for hot paths that compare `-rc` against a few known values. */
import { C } from './constants/index.js';
import type { ErrnoName } from './constants/errno-generic.js';

export const E = Object.fromEntries(C.errno.map(([name, n]) => [name, n])) as Record<ErrnoName, number>;
