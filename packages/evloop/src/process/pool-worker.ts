/**
 * The job loop inside a pool worker: import the job's module (cached after the first job), call
 * the named export with the arguments, post back the value or the error (name, message, code,
 * stack — errors are not structured-cloneable with their class). One job at a time.
 */
import { parentPort } from 'node:worker_threads';

export interface JobRequest {
  id: number;
  module: string;
  name: string;
  args: unknown[];
}

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type JobReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, code: typeof code === 'string' ? code : undefined, stack: err.stack };
  }
  return { name: 'Error', message: `non-error thrown: ${String(err)}` };
}

async function runJob(req: JobRequest): Promise<JobReply> {
  try {
    const mod = (await import(req.module)) as Record<string, unknown>;
    const fn = mod[req.name];
    if (typeof fn !== 'function') {
      return { id: req.id, ok: false, error: { name: 'EvloopError', code: 'ERR_JOB_NOT_FOUND', message: `${req.module} has no exported function "${req.name}"` } };
    }
    return { id: req.id, ok: true, value: await (fn as (...a: unknown[]) => unknown)(...req.args) };
  } catch (err) {
    return { id: req.id, ok: false, error: serialize(err) };
  }
}

const port = parentPort!;
port.on('message', (req: JobRequest) => {
  void runJob(req).then((reply) => {
    try {
      port.postMessage(reply);
    } catch (err) {
      // the value could not be cloned (a function, a socket …): report that instead
      port.postMessage({ id: req.id, ok: false, error: { ...serialize(err), code: 'ERR_JOB_RESULT_NOT_CLONEABLE' } } satisfies JobReply);
    }
  });
});
port.postMessage('ready');
