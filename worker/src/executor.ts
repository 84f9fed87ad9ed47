/** How shard ops get executed: directly on this thread, or in the piscina pool. */
import { ERROR_CODES, OptfleetError, type ErrorCode } from '@optfleet/proto';
import { runBatch, type BatchOutput } from './tasks/batch.js';
import type { TaskFailure, TaskInput } from './tasks/protocol.js';

export interface OpExecutor {
  /** Runs shard ops; resolves with one result per input (same order) or rejects with the first failure. */
  runMany(inputs: readonly TaskInput[], signal?: AbortSignal): Promise<Float64Array[]>;
  close(): Promise<void>;
}

export function failureToError(f: TaskFailure): OptfleetError {
  const code = (Object.values(ERROR_CODES) as string[]).includes(f.code) ? (f.code as ErrorCode) : ERROR_CODES.INTERNAL;
  return new OptfleetError(code, f.message, { retryable: f.retryable });
}

/** Turns a batch output into its vectors or a thrown OptfleetError. */
export function unwrapBatch(out: BatchOutput): Float64Array[] {
  if (Array.isArray(out)) return out;
  throw failureToError(out);
}

/** Runs a batch on the calling thread; a thrown error becomes TASK_CRASHED. */
export function runInline(inputs: readonly TaskInput[]): Float64Array[] {
  let out: BatchOutput;
  try {
    out = runBatch({ items: inputs });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new OptfleetError(ERROR_CODES.TASK_CRASHED, `task ${inputs[0]?.op ?? '?'} crashed: ${msg}`);
  }
  return unwrapBatch(out);
}

/** The sequential reference executor: calls the task functions on the calling thread. */
export class DirectExecutor implements OpExecutor {
  runMany(inputs: readonly TaskInput[]): Promise<Float64Array[]> {
    try {
      return Promise.resolve(runInline(inputs));
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
