/**
 * Runs several shard ops in one go (one pool task per thread per round instead of one per shard:
 * a piscina dispatch costs ~50-150 µs, more than a small shard op). The first failure, in item
 * order, is the batch's result.
 */
import { TOKEN_PARAMS } from '@optfleet/proto';
import { TASKS } from './index.js';
import type { TaskFailure, TaskInput } from './protocol.js';

export interface BatchInput {
  readonly items: readonly TaskInput[];
}

export type BatchOutput = Float64Array[] | TaskFailure;

export function runBatch(input: BatchInput): BatchOutput {
  const out: Float64Array[] = [];
  for (const item of input.items) {
    const r = TASKS[item.op](item);
    if (!(r instanceof Float64Array)) return r;
    out.push(r);
  }
  return out;
}

/** Multiply-adds an op will do (rows × row length × points): what the executors balance on. */
export function estimateWork(item: TaskInput): number {
  const m = item.shard.matrix;
  if (item.op === 'token-walk' && item.shard.walk !== undefined) {
    // Upper bound: every token could walk up to the hop cap here, each hop a kernel row and one
    // agent's gradient. Long walks must go to the pool, never block the event loop (heartbeats).
    const params = item.points[1];
    if (params === undefined || params.length < TOKEN_PARAMS.HEADER + TOKEN_PARAMS.PER_TOKEN) return 1;
    const tokens = (params.length - TOKEN_PARAMS.HEADER) / TOKEN_PARAMS.PER_TOKEN;
    const hops = Math.min(params[TOKEN_PARAMS.HOP_CAP]!, params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.STEPS]!);
    const g = item.shard.walk.graph;
    return tokens * hops * (g.rowsPerAgent * g.d + 16) + 1;
  }
  const b = item.mbbo;
  if (b !== null) {
    // Bilevel rows are blocks: a step touches ≤ 2B samples of each listed block, an exact
    // evaluation all n + n_f samples with d_y² Hessian work per sample, a few Newton steps.
    const blocks = item.indices === null ? m.rows : item.indices.length;
    const perBlock = item.op === 'mbbo-eval' ? (b.n + b.nf) * b.dy * b.dy * 3 : Math.min(b.n + b.nf, 64) * (b.dy + b.d) * 4;
    return blocks * perBlock + 1;
  }
  const rows = item.indices === null ? m.rows : item.indices.length;
  const perRow = m.kind === 'dense' ? m.cols : m.rows === 0 ? 0 : m.indptr[m.rows]! / m.rows;
  return rows * Math.max(1, perRow) * item.points.length + 1;
}
