/**
 * The events that producer.worker.ts writes to pipes: 8 bytes each, the send time as
 * process.hrtime.bigint() (one monotonic clock for every thread). END ends a source; 0 is a
 * wake-up poke (pipes.ts), never an event.
 */
export const END = -1n;
