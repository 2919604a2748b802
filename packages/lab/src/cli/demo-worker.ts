/** The demo app as a worker module of a multi-core `evloop serve` (see cluster-worker.ts). */
import type { HandlerFactory } from 'evloop';
import { createDemoHandler } from './demo-app.js';

export const createHandler: HandlerFactory = (ctx) => createDemoHandler(ctx.stats);
