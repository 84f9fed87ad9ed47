/**
 * Multi-block bilevel (MBBO) problem data, generated on the worker that owns each block range
 * (block i depends only on (data seed, i), so the data is the same whatever the shard count).
 * A shard's "rows" are its blocks; row r stores the block's samples back to back:
 *   n lower samples  [a (d_y), b (db), c]   then   n_f upper samples [p (d_y), q].
 * - mbbo-quadratic (spec §4(a)): g = ½(aᵀy)² − (aᵀy)(bᵀx + c) + (μ/2)‖y‖², f = ½(pᵀy − q)² + r(x),
 *   db = d; a ∼ N(0, I), b = M_iᵀa + σ_b·N(0, I_d) with M_i ∼ N(0, 1/d), c ∼ N(0, 1),
 *   p ∼ N(0, I), q = pᵀȳ_i + 0.1·N(0, 1), ȳ_i ∼ N(0, I).
 * - mbbo-ridge (spec §4(a′)): a = a feature row, c its target, db = 0; g = ½(aᵀy − c)² +
 *   ½Σ_k e^{x_k}y_k², f = ½(pᵀy − q)². Features N(0, I); task weights w_i = s ⊙ N(0, I) with
 *   relevance s_k = 1 on the first ⌈d/2⌉ features and 0.1 on the rest (so the best penalties
 *   differ by feature); targets Xw_i + noise·N(0, 1).
 */
import { COORDINATOR_SHARD, KeyedRng, type BilevelProblemSpec } from '@optfleet/proto';
import { sharedF64, type ShardData } from './shard-data.js';

/** What bilevel tasks know about their problem besides the block rows. */
export interface MbboProblem {
  readonly kind: 'mbbo-quadratic' | 'mbbo-ridge' | 'mbbo-hyperclean';
  readonly m: number;
  /** Upper dimension. */
  readonly d: number;
  /** Lower dimension. */
  readonly dy: number;
  /** Lower / upper samples per block. */
  readonly n: number;
  readonly nf: number;
  /** Length of the b vector in a lower sample (d for quadratic, 0 for ridge). */
  readonly db: number;
  /** Quadratic: μ of (μ/2)‖y‖²; ridge: 0 (its penalty is diag(e^x)); hyper-cleaning: λ. */
  readonly mu: number;
  /** The job seed: mini-batches are keyed by (seed, iteration, block). */
  readonly seed: number;
}

export function lowerStride(p: MbboProblem): number {
  return p.dy + p.db + 1;
}

export function upperStride(p: MbboProblem): number {
  return p.dy + 1;
}

/** Where block r of a shard starts in its data, and its temperature (hyper-cleaning: shared data, σ_i in shard.y). */
export function blockRef(p: MbboProblem, shard: ShardData, r: number): { off: number; sigma: number } {
  return { off: p.kind === 'mbbo-hyperclean' ? 0 : r * blockWidth(p), sigma: shard.y[r]! };
}

/** Numbers stored per block. */
export function blockWidth(p: MbboProblem): number {
  return p.n * lowerStride(p) + p.nf * upperStride(p);
}

export function mbboProblem(spec: BilevelProblemSpec, seed: number): MbboProblem {
  if (spec.kind === 'mbbo-quadratic') {
    const d = spec.data;
    return { kind: spec.kind, m: d.m, d: d.d, dy: d.dy, n: d.n, nf: d.nf, db: d.d, mu: spec.mu, seed };
  }
  if (spec.kind === 'mbbo-hyperclean') {
    const d = spec.data;
    return { kind: spec.kind, m: d.m, d: d.nTrain, dy: d.features + 1, n: d.nTrain, nf: d.nVal, db: 0, mu: spec.l2, seed };
  }
  const d = spec.data;
  return { kind: spec.kind, m: d.m, d: d.d, dy: d.d, n: d.n, nf: d.nv, db: 0, mu: 0, seed };
}

/** The data seed of a bilevel problem spec (defaults to the job seed). */
export function mbboDataSeed(spec: BilevelProblemSpec, jobSeed: number): number {
  return spec.data.seed ?? jobSeed;
}

/** Writes block i's samples into x[off..off+blockWidth). */
function fillQuadraticBlock(p: MbboProblem, dataSeed: number, sigmaB: number, i: number, x: Float64Array, off: number): void {
  const rng = new KeyedRng(dataSeed, i, COORDINATOR_SHARD, 'mbbo-quadratic-block');
  const { d, dy } = p;
  const M = new Float64Array(dy * d);
  const sM = 1 / Math.sqrt(d);
  for (let k = 0; k < M.length; k++) M[k] = rng.nextNormal() * sM;
  const ybar = new Float64Array(dy);
  for (let k = 0; k < dy; k++) ybar[k] = rng.nextNormal();
  const ls = lowerStride(p);
  for (let j = 0; j < p.n; j++) {
    const o = off + j * ls;
    for (let k = 0; k < dy; k++) x[o + k] = rng.nextNormal();
    for (let l = 0; l < d; l++) {
      let s = 0;
      for (let k = 0; k < dy; k++) s += M[k * d + l]! * x[o + k]!;
      x[o + dy + l] = s + sigmaB * rng.nextNormal();
    }
    x[o + dy + d] = rng.nextNormal();
  }
  const us = upperStride(p);
  const base = off + p.n * ls;
  for (let k = 0; k < p.nf; k++) {
    const o = base + k * us;
    let s = 0;
    for (let l = 0; l < dy; l++) {
      const v = rng.nextNormal();
      x[o + l] = v;
      s += v * ybar[l]!;
    }
    x[o + dy] = s + 0.1 * rng.nextNormal();
  }
}

function fillRidgeBlock(p: MbboProblem, dataSeed: number, noise: number, i: number, x: Float64Array, off: number): void {
  const rng = new KeyedRng(dataSeed, i, COORDINATOR_SHARD, 'mbbo-ridge-block');
  const dy = p.dy;
  const w = new Float64Array(dy);
  const relevant = Math.ceil(dy / 2);
  for (let k = 0; k < dy; k++) w[k] = (k < relevant ? 1 : 0.1) * rng.nextNormal();
  const stride = dy + 1;
  const rows = p.n + p.nf;
  for (let j = 0; j < rows; j++) {
    const o = off + j * stride;
    let s = 0;
    for (let k = 0; k < dy; k++) {
      const v = rng.nextNormal();
      x[o + k] = v;
      s += v * w[k]!;
    }
    x[o + dy] = s + noise * rng.nextNormal();
  }
}

/**
 * Hyper-cleaning (spec §4(b)): the shared data of every block, [a = (1, z), label] rows, n_tr
 * training then n_val validation; z ∼ N(0, I), teacher w° ∼ N(0, I), label sign(w°ᵀa + 0.5·N(0, 1)),
 * a share `flip` of the training labels flipped. Row j depends only on (data seed, j).
 * The temperatures σ_i = 1 + 10·U(0, 1) of the shard's blocks go in shard.y.
 */
function hypercleanShard(p: MbboProblem, dataSeed: number, flip: number, shard: number, start: number, end: number): ShardData {
  const x = sharedF64((p.n + p.nf) * (p.dy + 1));
  hypercleanRows(p, dataSeed, flip, x);
  const sigma = sharedF64(end - start);
  for (let i = start; i < end; i++)
    sigma[i - start] = 1 + 10 * new KeyedRng(dataSeed, i, COORDINATOR_SHARD, 'mbbo-hc-temperature').nextFloat();
  // rows = blocks; the data is shared by them (blockRef gives every block offset 0).
  return { shard, firstRow: start, matrix: { kind: 'dense', rows: end - start, cols: 0, x }, y: sigma };
}

/** Writes the hyper-cleaning rows into x (when given) and returns which training labels were flipped. */
export function hypercleanRows(p: MbboProblem, dataSeed: number, flip: number, x?: Float64Array): Uint8Array {
  const dy = p.dy;
  const stride = dy + 1;
  const teacher = new KeyedRng(dataSeed, 0, COORDINATOR_SHARD, 'mbbo-hc-teacher');
  const w = Float64Array.from({ length: dy }, () => teacher.nextNormal());
  const flipped = new Uint8Array(p.n);
  const a = new Float64Array(dy);
  for (let j = 0; j < p.n + p.nf; j++) {
    const rng = new KeyedRng(dataSeed, j, COORDINATOR_SHARD, 'mbbo-hc-row');
    a[0] = 1;
    let s = w[0]!;
    for (let k = 1; k < dy; k++) {
      a[k] = rng.nextNormal();
      s += a[k]! * w[k]!;
    }
    let label = s + 0.5 * rng.nextNormal() >= 0 ? 1 : -1;
    if (j < p.n && rng.nextFloat() < flip) {
      label = -label;
      flipped[j] = 1;
    }
    if (x !== undefined) {
      x.set(a, j * stride);
      x[j * stride + dy] = label;
    }
  }
  return flipped;
}

/** Blocks [start, end) of a bilevel problem as one shard. */
export function mbboShard(
  spec: BilevelProblemSpec,
  p: MbboProblem,
  dataSeed: number,
  shard: number,
  start: number,
  end: number,
): ShardData {
  if (spec.kind === 'mbbo-hyperclean') return hypercleanShard(p, dataSeed, spec.data.flip, shard, start, end);
  const rows = end - start;
  const w = blockWidth(p);
  const x = sharedF64(rows * w);
  for (let r = 0; r < rows; r++) {
    if (spec.kind === 'mbbo-quadratic') fillQuadraticBlock(p, dataSeed, spec.data.sigmaB, start + r, x, r * w);
    else if (spec.kind === 'mbbo-ridge') fillRidgeBlock(p, dataSeed, spec.data.noise, start + r, x, r * w);
  }
  return { shard, firstRow: start, matrix: { kind: 'dense', rows, cols: w, x }, y: sharedF64(rows) };
}

/**
 * L_g bound for the step-size guard: max over the shard's blocks of λ_max(A_i(x_0)), the full-batch
 * lower-level Hessian at the start (A_i = (1/n)Σ aaᵀ + μI; ridge: + diag(e^{x_0}) = + I), by 100
 * power iterations from a fixed start, with a 1% margin against power iteration's underestimate.
 */
export function mbboLipschitz(p: MbboProblem, shard: ShardData): number {
  const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
  const w = blockWidth(p);
  const ls = lowerStride(p);
  const dy = p.dy;
  // Hyper-cleaning: ∇²g_i ⪯ (1/(4σ_i²))·(1/n)Σaaᵀ + λI for every p and w (ω ≤ 1, φ(1−φ) ≤ 1/4).
  const hc = p.kind === 'mbbo-hyperclean';
  const reg = p.kind === 'mbbo-ridge' ? 1 : p.mu;
  let worst = 0;
  const v = new Float64Array(dy);
  const Av = new Float64Array(dy);
  for (let r = 0; r < shard.matrix.rows; r++) {
    const base = hc ? 0 : r * w;
    v.fill(1 / Math.sqrt(dy));
    let lam = 0;
    for (let it = 0; it < 100; it++) {
      Av.fill(0);
      for (let j = 0; j < p.n; j++) {
        const o = base + j * ls;
        let s = 0;
        for (let k = 0; k < dy; k++) s += X[o + k]! * v[k]!;
        s /= p.n;
        for (let k = 0; k < dy; k++) Av[k] = Av[k]! + s * X[o + k]!;
      }
      let nrm = 0;
      for (let k = 0; k < dy; k++) nrm += Av[k]! * Av[k]!;
      nrm = Math.sqrt(nrm);
      lam = nrm;
      if (nrm === 0) break;
      for (let k = 0; k < dy; k++) v[k] = Av[k]! / nrm;
    }
    const scale = hc ? 1 / (4 * shard.y[r]! * shard.y[r]!) : 1;
    worst = Math.max(worst, (scale * lam + reg) * 1.01);
  }
  return worst;
}
