/** How a shard op gets executed: directly on this thread, or in the piscina pool. */
import { ERROR_CODES, OptfleetError, type ErrorCode } from '@optfleet/proto';
import { TASKS } from './tasks/index.js';
import type { TaskInput, TaskOutput } from './tasks/protocol.js';

export interface OpExecutor {
  /** Runs one shard op; rejects with an OptfleetError carrying the task's code. */
  run(input: TaskInput, signal?: AbortSignal): Promise<Float64Array>;
  close(): Promise<void>;
}

/** Turns a task output into the vector or a thrown OptfleetError. */
export function unwrapTaskOutput(out: TaskOutput): Float64Array {
  if (out instanceof Float64Array) return out;
  const code = (Object.values(ERROR_CODES) as string[]).includes(out.code) ? (out.code as ErrorCode) : ERROR_CODES.INTERNAL;
  throw new OptfleetError(code, out.message, { retryable: out.retryable });
}

/** The sequential reference executor: calls the task functions on the calling thread. */
export class DirectExecutor implements OpExecutor {
  run(input: TaskInput): Promise<Float64Array> {
    try {
      return Promise.resolve(unwrapTaskOutput(TASKS[input.op](input)));
    } catch (e) {
      if (e instanceof OptfleetError) return Promise.reject(e);
      const msg = e instanceof Error ? e.message : String(e);
      return Promise.reject(new OptfleetError(ERROR_CODES.TASK_CRASHED, `task ${input.op} on shard ${input.shard.shard} crashed: ${msg}`));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
