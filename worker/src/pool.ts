/**
 * The worker's piscina pool — the only file that imports piscina. A round's shard ops are grouped
 * into at most `threads` batches balanced by work (one dispatch per thread, not per shard); a
 * round too small to pay for a dispatch (< `inlineWork` multiply-adds) runs on the event-loop
 * thread instead. Both paths call the same kernels, so the bits are the same. Tasks never await
 * I/O, so `atomics: 'sync'` is kept (use 'async' or 'disabled' if a task ever awaits). Any thrown
 * error or dead thread becomes TASK_CRASHED; the worker process stays up.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { ERROR_CODES, OptfleetError } from '@optfleet/proto';
import { runInline, unwrapBatch, type OpExecutor } from './executor.js';
import { estimateWork, type BatchInput, type BatchOutput } from './tasks/batch.js';
import type { TaskInput } from './tasks/protocol.js';
import type { PoolSnapshot } from './metrics.js';

export interface PoolOptions {
  /** Threads in the pool. @default os.availableParallelism() */
  threads?: number;
  /** Rounds with fewer multiply-adds than this run on the event-loop thread. @default 100000 */
  inlineWork?: number;
  /** Extra node flags for the threads. @default [] */
  execArgv?: string[];
}

export interface ResolvedPoolOptions {
  readonly threads: number;
  readonly inlineWork: number;
  readonly execArgv: readonly string[];
}

export const DEFAULT_INLINE_WORK = 100_000;

export function resolvePoolOptions(o: PoolOptions = {}): ResolvedPoolOptions {
  const threads = o.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new RangeError(`options.threads: must be an integer in [1, 1024], got ${threads}`);
  }
  const inlineWork = o.inlineWork ?? DEFAULT_INLINE_WORK;
  if (!Number.isFinite(inlineWork) || inlineWork < 0) {
    throw new RangeError(`options.inlineWork: must be a finite number ≥ 0, got ${inlineWork}`);
  }
  return Object.freeze({ threads, inlineWork, execArgv: [...(o.execArgv ?? [])] });
}

/** Splits items into at most `k` groups with balanced work (largest first onto the lightest group). */
export function balance(items: readonly TaskInput[], k: number): number[][] {
  const order = items.map((it, i) => [estimateWork(it), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const groups: number[][] = Array.from({ length: Math.min(k, items.length) }, () => []);
  const load = new Array<number>(groups.length).fill(0);
  for (const [w, i] of order) {
    let best = 0;
    for (let g = 1; g < groups.length; g++) if (load[g]! < load[best]!) best = g;
    groups[best]!.push(i);
    load[best] = load[best]! + w;
  }
  return groups.filter((g) => g.length > 0);
}

function finiteOr0(v: number): number {
  return Number.isFinite(v) ? v : 0;
}

export class PoolExecutor implements OpExecutor {
  private readonly pool: Piscina<BatchInput, BatchOutput>;
  readonly threads: number;
  readonly inlineWork: number;

  constructor(options: PoolOptions = {}) {
    const o = resolvePoolOptions(options);
    this.threads = o.threads;
    this.inlineWork = o.inlineWork;
    this.pool = new Piscina<BatchInput, BatchOutput>({
      filename: new URL('./pool-thread.js', import.meta.url).href,
      minThreads: o.threads,
      maxThreads: o.threads,
      idleTimeout: 60_000,
      atomics: 'sync',
      execArgv: [...o.execArgv],
    });
  }

  async runMany(inputs: readonly TaskInput[], signal?: AbortSignal): Promise<Float64Array[]> {
    if (inputs.length === 0) return [];
    let work = 0;
    for (const it of inputs) work += estimateWork(it);
    if (work < this.inlineWork) return runInline(inputs);
    const groups = balance(inputs, this.threads);
    const outs = await Promise.all(
      groups.map(async (g) => {
        let out: BatchOutput;
        try {
          out = await this.pool.run({ items: g.map((i) => inputs[i]!) }, signal === undefined ? {} : { signal });
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          const first = inputs[g[0]!]!;
          throw new OptfleetError(
            ERROR_CODES.TASK_CRASHED,
            `task ${first.op} on shard ${first.shard.shard} crashed in a pool thread: ${msg}`,
          );
        }
        return unwrapBatch(out);
      }),
    );
    const results = new Array<Float64Array>(inputs.length);
    groups.forEach((g, gi) => g.forEach((i, k) => (results[i] = outs[gi]![k]!)));
    return results;
  }

  /** Pool statistics for metrics (piscina reports milliseconds; metrics.ts converts). */
  stats(): PoolSnapshot {
    return {
      utilization: this.pool.utilization,
      queueSize: this.pool.queueSize,
      threads: this.pool.threads.length,
      completed: this.pool.completed,
      runTimeMeanMs: finiteOr0(this.pool.histogram.runTime.mean),
      waitTimeMeanMs: finiteOr0(this.pool.histogram.waitTime.mean),
    };
  }

  async close(): Promise<void> {
    await this.pool.close({ force: true });
  }
}
