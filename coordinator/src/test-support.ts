/**
 * Test-only helpers (imported by *.test.ts files only): a Cluster that evaluates a small dense
 * least-squares or logistic problem directly, so drivers can be tested on known functions without
 * the worker package.
 */
import { KeyedRng, type JobSpec } from '@optfleet/proto';
import type { Cluster, JobLayout, RoundRequest, RoundResult } from './cluster/cluster.js';

export interface TinyProblem {
  readonly kind: 'logistic' | 'least-squares';
  readonly X: Float64Array;
  readonly y: Float64Array;
  readonly n: number;
  readonly d: number;
}

export function tinyProblem(kind: TinyProblem['kind'], n: number, d: number, seed: number): TinyProblem {
  const rng = new KeyedRng(seed, 0, 0, 'tiny-problem');
  const X = Float64Array.from({ length: n * d }, () => rng.nextNormal() / Math.sqrt(d));
  const w = Float64Array.from({ length: d }, () => rng.nextNormal());
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += X[i * d + j]! * w[j]!;
    y[i] = kind === 'least-squares' ? z + 0.1 * rng.nextNormal() : rng.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : -1;
  }
  return { kind, X, y, n, d };
}

/** Evaluates ops row by row in row order; counts rounds. */
export class TinyCluster implements Cluster {
  rounds = 0;
  private readonly alpha: Float64Array;
  constructor(private readonly p: TinyProblem) {
    this.alpha = new Float64Array(p.n);
  }

  open(_jobId: string, _spec: JobSpec, shardCount: number): Promise<JobLayout> {
    const { n, d, X } = this.p;
    let maxRowNormSq = 0;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += X[i * d + j]! ** 2;
      maxRowNormSq = Math.max(maxRowNormSq, s);
    }
    return Promise.resolve({
      shardCount,
      rows: n,
      cols: d,
      nnz: n * d,
      maxRowNormSq,
      lipschitz: 0,
      rowOffsets: [0, n],
      owners: ['tiny'],
      bytes: 0,
    });
  }

  private slope(w: Float64Array, i: number): { z: number; s: number; loss: number } {
    const { d, X, y } = this.p;
    let z = 0;
    for (let j = 0; j < d; j++) z += X[i * d + j]! * w[j]!;
    const yi = y[i]!;
    if (this.p.kind === 'least-squares') return { z, s: z - yi, loss: 0.5 * (z - yi) ** 2 };
    return { z, s: -yi / (1 + Math.exp(yi * z)), loss: Math.log1p(Math.exp(-yi * z)) };
  }

  round(req: RoundRequest): Promise<RoundResult> {
    this.rounds++;
    const { n, d, X } = this.p;
    const rows = req.rows === 'all' ? Uint32Array.from({ length: n }, (_, i) => i) : req.rows;
    const full = req.op === 'loss-grad' || req.op === 'saga-init';
    const out = new Float64Array(full ? d + 2 : d + 1);
    let loss = 0;
    for (const i of rows) {
      const a = this.slope(req.points[0]!, i);
      let s = a.s;
      if (req.op === 'grad-diff') s -= this.slope(req.points[1]!, i).s;
      if (req.op === 'saga-init') this.alpha[i] = a.s;
      if (req.op === 'saga-step') {
        s = a.s - this.alpha[i]!;
        this.alpha[i] = a.s;
      }
      loss += a.loss;
      for (let j = 0; j < d; j++) out[j] = out[j]! + s * X[i * d + j]!;
    }
    if (full) {
      out[d] = loss;
      out[d + 1] = rows.length;
    } else out[d] = rows.length;
    return Promise.resolve({ sum: out, bytesIn: 0, bytesOut: 0 });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Least-squares optimum: (XᵀX/n + λI) w = Xᵀy/n by Gaussian elimination with partial pivoting. */
export function leastSquaresOptimum(p: TinyProblem, l2: number): Float64Array {
  const { n, d, X, y } = p;
  const A = Array.from({ length: d }, () => new Float64Array(d + 1));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) {
      const xa = X[i * d + a]!;
      for (let b = 0; b < d; b++) A[a]![b] = A[a]![b]! + (xa * X[i * d + b]!) / n;
      A[a]![d] = A[a]![d]! + (xa * y[i]!) / n;
    }
  }
  for (let a = 0; a < d; a++) A[a]![a] = A[a]![a]! + l2;
  for (let c = 0; c < d; c++) {
    let piv = c;
    for (let r = c + 1; r < d; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[piv]![c]!)) piv = r;
    [A[c], A[piv]] = [A[piv]!, A[c]!];
    for (let r = c + 1; r < d; r++) {
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= d; k++) A[r]![k] = A[r]![k]! - f * A[c]![k]!;
    }
  }
  const w = new Float64Array(d);
  for (let r = d - 1; r >= 0; r--) {
    let s = A[r]![d]!;
    for (let k = r + 1; k < d; k++) s -= A[r]![k]! * w[k]!;
    w[r] = s / A[r]![r]!;
  }
  return w;
}
