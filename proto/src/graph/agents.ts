/**
 * Agents' local losses, generated from (seed, node) alone so the worker owning an agent and the
 * coordinator (θ*, theory) build the same numbers.
 * - quadratic: F_i(θ) = ½‖θ − c_i‖², d = 2. g12: spec §4(a) centres; other graphs: c_i ~ N(0, I)
 *   plus 3(p_i − ½) where the graph has positions.
 * - logistic (spec §4(b)): B points x ~ N(0, I) + (3(px−½), 3(py−½), 0, …), labels
 *   y ~ Bernoulli(σ(θ_trueᵀx + 2(px−½))), θ_true ~ N(0, I); F_i = mean log-loss + (κ/2)‖θ‖².
 */
import { COORDINATOR_SHARD, KeyedRng } from '../rng.js';
import { g12Centres } from './g12.js';
import type { Graph } from './graph.js';

export type LossKind = 'quadratic' | 'logistic';

export interface AgentLossSpec {
  readonly loss: LossKind;
  readonly seed: number;
  readonly g12: boolean;
  /** logistic: points per agent and features. */
  readonly points: number;
  readonly features: number;
}

/** Dimension of θ. */
export function thetaDim(s: AgentLossSpec): number {
  return s.loss === 'quadratic' ? 2 : s.features;
}

/** Rows of data per agent: 1 centre (quadratic) or B points (logistic). */
export function agentRows(s: AgentLossSpec): number {
  return s.loss === 'quadratic' ? 1 : s.points;
}

function thetaTrue(s: AgentLossSpec): Float64Array {
  const rng = new KeyedRng(s.seed, 0, COORDINATOR_SHARD, 'srrw-theta-true');
  return Float64Array.from({ length: s.features }, () => rng.nextNormal());
}

/**
 * Writes agent `node`'s rows into x (agentRows × d, row-major) and labels into y (logistic).
 * `truth` is θ_true (pass agentTruth(s) once per job).
 */
export function agentData(s: AgentLossSpec, g: Graph, node: number, truth: Float64Array, x: Float64Array, y: Float64Array): void {
  const px = g.pos === null ? 0.5 : g.pos[2 * node]!;
  const py = g.pos === null ? 0.5 : g.pos[2 * node + 1]!;
  const rng = new KeyedRng(s.seed, node, COORDINATOR_SHARD, 'srrw-agent');
  if (s.loss === 'quadratic') {
    if (s.g12) {
      const c = g12Centres();
      x[0] = c[2 * node]!;
      x[1] = c[2 * node + 1]!;
    } else {
      x[0] = rng.nextNormal() + 3 * (px - 0.5);
      x[1] = rng.nextNormal() + 3 * (py - 0.5);
    }
    return;
  }
  const d = s.features;
  for (let k = 0; k < s.points; k++) {
    let z = 2 * (px - 0.5);
    for (let j = 0; j < d; j++) {
      const v = rng.nextNormal() + (j === 0 ? 3 * (px - 0.5) : j === 1 ? 3 * (py - 0.5) : 0);
      x[k * d + j] = v;
      z += truth[j]! * v;
    }
    y[k] = rng.nextFloat() < 1 / (1 + Math.exp(-z)) ? 1 : 0;
  }
}

export function agentTruth(s: AgentLossSpec): Float64Array {
  return s.loss === 'logistic' ? thetaTrue(s) : new Float64Array(0);
}

/**
 * Adds w·H(θ, i) = −w·∇F_i(θ) to `out` (d values) for one agent's rows: the SA direction.
 * Quadratic: c − θ. Logistic: −(mean_k (σ(θᵀx_k) − y_k) x_k + κθ).
 */
export function addDirection(
  loss: LossKind,
  d: number,
  rows: number,
  kappa: number,
  x: Float64Array,
  xOff: number,
  y: Float64Array,
  yOff: number,
  theta: Float64Array,
  thetaOff: number,
  w: number,
  out: Float64Array,
): void {
  if (loss === 'quadratic') {
    for (let j = 0; j < d; j++) out[j] = out[j]! + w * (x[xOff + j]! - theta[thetaOff + j]!);
    return;
  }
  const inv = w / rows;
  for (let k = 0; k < rows; k++) {
    let z = 0;
    const base = xOff + k * d;
    for (let j = 0; j < d; j++) z += theta[thetaOff + j]! * x[base + j]!;
    const r = (1 / (1 + Math.exp(-z)) - y[yOff + k]!) * inv;
    for (let j = 0; j < d; j++) out[j] = out[j]! - r * x[base + j]!;
  }
  for (let j = 0; j < d; j++) out[j] = out[j]! - w * kappa * theta[thetaOff + j]!;
}
