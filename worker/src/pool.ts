/**
 * The worker's piscina pool — the only file that imports piscina. Tasks never await I/O, so
 * `atomics: 'sync'` is kept (use 'async' or 'disabled' if a task ever awaits). Any thrown error or
 * dead thread becomes TASK_CRASHED; the worker process stays up.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ERROR_CODES, OptfleetError } from '@optfleet/proto';
import { unwrapTaskOutput, type OpExecutor } from './executor.js';
import type { TaskInput, TaskOutput } from './tasks/protocol.js';

export interface PoolOptions {
  /** Threads in the pool. @default os.availableParallelism() */
  threads?: number;
  /** Extra node flags for the threads (e.g. `['--import', 'tsx']` when running from sources). @default [] */
  execArgv?: string[];
}

export interface ResolvedPoolOptions {
  readonly threads: number;
  readonly execArgv: readonly string[];
}

export function resolvePoolOptions(o: PoolOptions = {}): ResolvedPoolOptions {
  const threads = o.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new RangeError(`options.threads: must be an integer in [1, 1024], got ${threads}`);
  }
  return Object.freeze({ threads, execArgv: [...(o.execArgv ?? [])] });
}

export class PoolExecutor implements OpExecutor {
  private readonly pool: Piscina<TaskInput, TaskOutput>;
  readonly threads: number;

  constructor(options: PoolOptions = {}) {
    const o = resolvePoolOptions(options);
    this.threads = o.threads;
    this.pool = new Piscina<TaskInput, TaskOutput>({
      filename: new URL('./pool-thread.js', import.meta.url).href,
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: 60_000,
      atomics: 'sync',
      execArgv: [...o.execArgv],
    });
  }

  async run(input: TaskInput, signal?: AbortSignal): Promise<Float64Array> {
    let out: TaskOutput;
    try {
      out = await this.pool.run(input, signal === undefined ? {} : { signal });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new OptfleetError(ERROR_CODES.TASK_CRASHED, `task ${input.op} on shard ${input.shard.shard} crashed in a pool thread: ${msg}`);
    }
    return unwrapTaskOutput(out);
  }

  /** Pool statistics for metrics (piscina reports milliseconds). */
  stats(): { utilization: number; queueSize: number; threads: number; completed: number } {
    return {
      utilization: this.pool.utilization,
      queueSize: this.pool.queueSize,
      threads: this.pool.threads.length,
      completed: this.pool.completed,
    };
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
