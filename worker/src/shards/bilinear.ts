/**
 * The regularised bilinear finite-sum game of spec §6(a), generated on the worker that owns each
 * component range. Component i: F_i(z) = M_i z + q_i with M_i = [[μI, B_i], [−B_iᵀ, μI]],
 * B_i = B + σG_i, q_i = q + σh_i. G_i and h_i come in antithetic pairs (component 2j+1 has −G, −h
 * of component 2j; a last unpaired component has zeros), so Σ_i G_i = 0 and Σ_i h_i = 0 exactly
 * and F(z) = (1/n)Σ F_i(z) = Mz + q with M = [[μI, B], [−Bᵀ, μI]] and ‖B‖₂ = 1.
 * Stored per component row: [G_i (m×m, row-major), h_i (2m)].
 */
import { COORDINATOR_SHARD, KeyedRng } from '@optfleet/proto';
import { sharedF64, type ShardData } from './shard-data.js';

/** The constants every worker derives from the seed (small: m² + 2m numbers). */
export interface BilinearGame {
  readonly m: number;
  readonly mu: number;
  readonly sigma: number;
  /** B, m×m row-major, ‖B‖₂ = 1. */
  readonly B: Float64Array;
  /** q, 2m entries. */
  readonly q: Float64Array;
}

/** Largest singular value of an m×m row-major matrix by power iteration on AᵀA (deterministic start). */
export function spectralNorm(A: Float64Array, m: number, iterations = 300): number {
  let v = new Float64Array(m).fill(1 / Math.sqrt(m));
  let sigma = 0;
  for (let it = 0; it < iterations; it++) {
    const Av = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      let s = 0;
      for (let b = 0; b < m; b++) s += A[a * m + b]! * v[b]!;
      Av[a] = s;
    }
    const w = new Float64Array(m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) w[b] = w[b]! + A[a * m + b]! * Av[a]!;
    let nw = 0;
    for (let b = 0; b < m; b++) nw += w[b]! * w[b]!;
    nw = Math.sqrt(nw);
    if (nw === 0) return 0;
    sigma = Math.sqrt(nw);
    v = w.map((x) => x / nw);
  }
  return sigma;
}

export function bilinearConstants(seed: number, m: number, mu: number, sigma: number): BilinearGame {
  const rb = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'bilinear-B');
  const B = Float64Array.from({ length: m * m }, () => rb.nextNormal());
  const s = spectralNorm(B, m);
  for (let k = 0; k < B.length; k++) B[k] = B[k]! / s;
  const rq = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'bilinear-q');
  const q = Float64Array.from({ length: 2 * m }, () => rq.nextNormal());
  return { m, mu, sigma, B, q };
}

/** Components [start, end) of an n-component game. */
export function bilinearShard(game: BilinearGame, seed: number, n: number, shard: number, start: number, end: number): ShardData {
  const m = game.m;
  const w = m * m + 2 * m;
  const rows = end - start;
  const x = sharedF64(rows * w);
  const scale = 1 / Math.sqrt(m);
  for (let r = 0; r < rows; r++) {
    const i = start + r;
    if (i === n - 1 && n % 2 === 1) continue; // the unpaired last component keeps zeros
    const rng = new KeyedRng(seed, i >>> 1, COORDINATOR_SHARD, 'bilinear-component');
    const sign = i % 2 === 0 ? 1 : -1;
    const base = r * w;
    for (let k = 0; k < m * m; k++) x[base + k] = sign * rng.nextNormal() * scale;
    for (let k = 0; k < 2 * m; k++) x[base + m * m + k] = sign * rng.nextNormal();
  }
  return { shard, firstRow: start, matrix: { kind: 'dense', rows, cols: w, x }, y: sharedF64(rows) };
}

/**
 * Per-shard bound for step sizes: max over its components of ‖M_i‖₂²/μ (the cocoercivity
 * constant) when μ > 0, of ‖M_i‖₂ (the Lipschitz constant) when μ = 0; ‖M_i‖₂² = μ² + ‖B_i‖₂².
 */
export function bilinearLipschitz(game: BilinearGame, shard: ShardData): number {
  const { m, mu, sigma, B } = game;
  const w = m * m + 2 * m;
  const Bi = new Float64Array(m * m);
  let worst = 0;
  const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
  for (let r = 0; r < shard.matrix.rows; r++) {
    for (let k = 0; k < m * m; k++) Bi[k] = B[k]! + sigma * X[r * w + k]!;
    // Power iteration underestimates slightly: 1% margin keeps default steps on the safe side.
    const s = spectralNorm(Bi, m, 60) * 1.01;
    worst = Math.max(worst, mu * mu + s * s);
  }
  return mu > 0 ? worst / mu : Math.sqrt(worst);
}
