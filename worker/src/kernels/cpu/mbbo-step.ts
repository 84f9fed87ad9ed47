/**
 * One BSVRB iteration on the sampled blocks of a shard (spec §2.2 v1, §2.3 v2; the stoch-bilevel
 * baseline is v2 with α = 1, γ = 0, β = 1). Reads and writes the blocks' sticky state in place.
 *
 * Timeline of block i (ℓ_i = last iteration it was sampled): its stored y_i is y_{i,ℓ_i+1}.
 * - 'sampled' updates: y_i does not move between visits, so y_{i,t} = stored y_i, and
 *   y_{i,t−1} = yPrev if ℓ_i = t−1 (it moved at t−1) else y_i.
 * - 'all' updates (exact lazy form of the full update, spec §2.5): the t−1−ℓ_i missed steps
 *   y ← y − τ·v_i (and u ← Π(u − τ_u·q_i)) with the stale estimators are applied one by one before
 *   the block is evaluated, so the result is bit-identical to moving every block every iteration;
 *   the last replayed step leaves y_{i,t−1} in yPrev.
 * The Hessian tracker H_i moves only when sampled (both modes): H_{i,t−1} = HPrev iff ℓ_i = t−1.
 */
import { KeyedRng, MBBO_STEP_PARAMS as P } from '@optfleet/proto';
import type { ShardData } from '../../shards/shard-data.js';
import type { MbboProblem } from '../../shards/mbbo.js';
import { blockRef } from '../../shards/mbbo.js';
import { cholesky, choleskySolve, projectSpectrum, projectionScratch } from './linalg.js';
import { allSamples, gradYf, gradYg, hessYY, hvp, jvpAdd, upperPoint } from './mbbo-oracles.js';

/** The block's mini-batch: B draws with replacement keyed by (seed, t, block, purpose), or all n when B ≥ n. */
export function drawSamples(seed: number, t: number, block: number, purpose: string, B: number, n: number): Uint32Array {
  if (B >= n) return allSamples(n);
  const rng = new KeyedRng(seed, t, block, purpose);
  const idx = new Uint32Array(B);
  for (let s = 0; s < B; s++) idx[s] = rng.nextInt(n);
  return idx;
}

/** u ← Π_{‖u‖≤C}(u − τ·q). */
export function uStep(u: Float64Array, q: Float64Array, tau: number, bound: number): void {
  let nrm = 0;
  for (let k = 0; k < u.length; k++) {
    const v = u[k]! - tau * q[k]!;
    u[k] = v;
    nrm += v * v;
  }
  nrm = Math.sqrt(nrm);
  if (nrm > bound) {
    const f = bound / nrm;
    for (let k = 0; k < u.length; k++) u[k] = u[k]! * f;
  }
}

/** The block's sticky state, as views into the shard's slots. */
export interface BlockState {
  readonly y: Float64Array;
  readonly yPrev: Float64Array;
  readonly v: Float64Array;
  readonly H: Float64Array;
  readonly HPrev: Float64Array;
  readonly u: Float64Array;
  readonly uPrev: Float64Array;
  readonly q: Float64Array;
}

export function blockState(st: Readonly<Record<string, Float64Array>>, r: number, dy: number, v1: boolean): BlockState {
  const vec = (name: string, size: number): Float64Array => {
    const a = st[name];
    if (a === undefined) throw new Error(`state slot ${name} missing`);
    return size === 0 ? new Float64Array(0) : a.subarray(r * size, (r + 1) * size);
  };
  return {
    y: vec('mbbo.y', dy),
    yPrev: vec('mbbo.yPrev', dy),
    v: vec('mbbo.v', dy),
    H: vec('mbbo.H', v1 ? dy * dy : 0),
    HPrev: vec('mbbo.HPrev', v1 ? dy * dy : 0),
    u: vec('mbbo.u', v1 ? 0 : dy),
    uPrev: vec('mbbo.uPrev', v1 ? 0 : dy),
    q: vec('mbbo.q', v1 ? 0 : dy),
  };
}

/** Replays `steps` missed full-update steps of a block (y, and u unless v1) with its stale estimators. */
export function catchUp(b: BlockState, steps: number, tau: number, tauU: number, uBound: number, v1: boolean): void {
  for (let s = 0; s < steps; s++) {
    b.yPrev.set(b.y);
    for (let k = 0; k < b.y.length; k++) b.y[k] = b.y[k]! - tau * b.v[k]!;
    if (!v1) {
      b.uPrev.set(b.u);
      uStep(b.u, b.q, tauU, uBound);
    }
  }
}

export type StepFailure = { readonly code: string; readonly message: string };

/**
 * Runs the step on the listed local blocks, adding Σ_i (G_i^new − (1−β)G_i^old) (implicit part) to
 * out[0..d) and returning the sample-oracle evaluations made, or a failure.
 */
export function mbboStep(
  p: MbboProblem,
  shard: ShardData,
  state: Readonly<Record<string, Float64Array>>,
  x: Float64Array,
  xOld: Float64Array,
  params: Float64Array,
  blocks: Uint32Array,
  out: Float64Array,
): number | StepFailure {
  const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
  const dy = p.dy;
  const t = params[P.t]!;
  const v1 = params[P.method] === 1;
  const B = params[P.B]!;
  const alpha = params[P.alpha]!;
  const gamma = params[P.gamma]!;
  const beta = params[P.beta]!;
  const tau = params[P.tau]!;
  const tauU = params[P.tauU]!;
  const full = params[P.fullUpdate] === 1;
  const hMin = params[P.hMin]!;
  const hMax = params[P.hMax]!;
  const uBound = params[P.uBound]!;
  const last = state['mbbo.last']!;
  const ptN = upperPoint(p, x);
  const ptO = upperPoint(p, xOld);
  const gyN = new Float64Array(dy);
  const gyO = new Float64Array(dy);
  const fyN = new Float64Array(dy);
  const fyO = new Float64Array(dy);
  const wN = new Float64Array(dy);
  const wO = new Float64Array(dy);
  const rN = new Float64Array(dy);
  const rO = new Float64Array(dy);
  const Hs = v1 ? new Float64Array(dy * dy) : new Float64Array(0);
  const Hn = v1 ? new Float64Array(dy * dy) : new Float64Array(0);
  const L = v1 ? new Float64Array(dy * dy) : new Float64Array(0);
  const scratch = projectionScratch(v1 ? dy : 0);
  let evaluations = 0;

  /** w ← H⁻¹ f via a Cholesky factor of (projected, hence positive definite) H. */
  const solve = (H: Float64Array, f: Float64Array, w: Float64Array, block: number): StepFailure | null => {
    L.set(H);
    if (!cholesky(L, 0, dy)) {
      return { code: 'DIVERGED', message: `block ${block}: the Hessian estimate is not positive definite at iteration ${t}` };
    }
    w.set(f);
    choleskySolve(L, 0, dy, w);
    return null;
  };

  for (let bi = 0; bi < blocks.length; bi++) {
    const r = blocks[bi]!;
    const i = shard.firstRow + r;
    const off = blockRef(p, shard, r);
    const b = blockState(state, r, dy, v1);
    const lastT = last[r]! - 1;
    const first = lastT < 0;
    if (full && !first) catchUp(b, t - 1 - lastT, tau, tauU, uBound, v1);
    const movedLast = !first && (full || lastT === t - 1);
    const yOld = movedLast ? b.yPrev : b.y;
    const uOld = movedLast ? b.uPrev : b.u;
    // Old-point evaluations: the MSVR corrections (γ ≠ 0, after the first visit) and the STORM one (β < 1).
    const estOld = !first && gamma !== 0;
    const gOld = beta < 1;
    const gIdx = drawSamples(p.seed, t, i, 'mbbo-g', B, p.n);
    const fIdx = drawSamples(p.seed, t, i, 'mbbo-f', B, p.nf);
    evaluations += (gIdx.length + fIdx.length) * (estOld || gOld ? 2 : 1);

    gradYg(p, X, off, gIdx, ptN, b.y, gyN);
    if (estOld) gradYg(p, X, off, gIdx, ptO, yOld, gyO);
    gradYf(p, X, off, fIdx, b.y, fyN);
    if (v1 ? gOld : estOld) gradYf(p, X, off, fIdx, yOld, fyO);

    if (v1) {
      if (first) {
        // First touch: H_i = Π(mini-batch Hessian), used as H_{i,t} and H_{i,t−1} (spec §5.3).
        hessYY(p, X, off, gIdx, ptN, b.y, b.H, 0);
        projectSpectrum(b.H, 0, dy, hMin, hMax, scratch);
        b.HPrev.set(b.H);
      }
      const HOld = !first && lastT === t - 1 ? b.HPrev : b.H;
      let bad = solve(b.H, fyN, wN, i);
      if (bad === null && gOld) bad = solve(HOld, fyO, wO, i);
      if (bad !== null) return bad;
      jvpAdd(p, X, off, gIdx, ptN, b.y, wN, -1, out);
      if (gOld) jvpAdd(p, X, off, gIdx, ptO, yOld, wO, 1 - beta, out);
      if (!first) {
        // H^new = Π[(1−α)H + (α+γ)∇²g(new) − γ∇²g(old)], same samples at both points.
        hessYY(p, X, off, gIdx, ptN, b.y, Hs, 0);
        for (let k = 0; k < dy * dy; k++) Hn[k] = (1 - alpha) * b.H[k]! + (alpha + gamma) * Hs[k]!;
        if (gamma !== 0) {
          hessYY(p, X, off, gIdx, ptO, yOld, Hs, 0);
          for (let k = 0; k < dy * dy; k++) Hn[k] = Hn[k]! - gamma * Hs[k]!;
        }
        projectSpectrum(Hn, 0, dy, hMin, hMax, scratch);
        b.HPrev.set(b.H);
        b.H.set(Hn);
      }
    } else {
      jvpAdd(p, X, off, gIdx, ptN, b.y, b.u, -1, out);
      if (gOld) jvpAdd(p, X, off, gIdx, ptO, yOld, uOld, 1 - beta, out);
      // r = ∇²g·u − ∇_y f at both points; q ← MSVR of r.
      hvp(p, X, off, gIdx, ptN, b.y, b.u, rN);
      for (let k = 0; k < dy; k++) rN[k] = rN[k]! - fyN[k]!;
      if (first) b.q.set(rN);
      else {
        if (estOld) {
          hvp(p, X, off, gIdx, ptO, yOld, uOld, rO);
          for (let k = 0; k < dy; k++) rO[k] = rO[k]! - fyO[k]!;
        }
        for (let k = 0; k < dy; k++) b.q[k] = (1 - alpha) * b.q[k]! + (alpha + gamma) * rN[k]! - (estOld ? gamma * rO[k]! : 0);
      }
    }
    if (first) b.v.set(gyN);
    else for (let k = 0; k < dy; k++) b.v[k] = (1 - alpha) * b.v[k]! + (alpha + gamma) * gyN[k]! - (estOld ? gamma * gyO[k]! : 0);
    // The lower steps: y_{i,t+1} = y_{i,t} − τ·v_i (and u); the previous values are kept for t+1.
    b.yPrev.set(b.y);
    for (let k = 0; k < dy; k++) b.y[k] = b.y[k]! - tau * b.v[k]!;
    if (!v1) {
      b.uPrev.set(b.u);
      uStep(b.u, b.q, tauU, uBound);
    }
    last[r] = t + 1;
  }
  return evaluations;
}
