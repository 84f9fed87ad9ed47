/**
 * The SA-SRRW token walk (spec §1.3–1.7, §5): a token at agent i draws its next agent from the
 * self-repellent kernel K_ij[x] ∝ P_ij (x_j/μ_j)^(−α) over N(i) ∪ {i} (self-loop first), then the
 * new agent's shard applies x_{n+1} = x_n + γ(δ − x_n) and θ_{n+1} = θ_n + β·w·H(θ_n, X_{n+1}).
 * Everything a step reads travels with the token (θ, PRNG state, n, boundary visit entries) or
 * is static or shard-local (interior visit entries), so a trajectory is the same bits wherever it runs.
 */
import { TOKEN, TOKEN_PARAMS, WALK_CODES, addDirection, type AgentLossKind } from '@optfleet/proto';

/** Job-wide walk tables (SharedArrayBuffer-backed on workers; any typed arrays in tests). */
export interface WalkGraph {
  readonly n: number;
  /** Base chain rows over N(i) ∪ {i}, self-loop first (BaseChain). */
  readonly rowPtr: Int32Array;
  readonly col: Int32Array;
  readonly prob: Float64Array;
  /** log μ_i and the importance weight 1/(N μ_i). */
  readonly lmu: Float64Array;
  readonly weight: Float64Array;
  readonly shardOf: Int32Array;
  /** Boundary index ≥ 0 (entry in the token), or −1 − interior index on the node's shard. */
  readonly slot: Int32Array;
  /** Index of each node among its shard's agents. */
  readonly local: Int32Array;
  readonly boundary: number;
  readonly d: number;
  readonly loss: AgentLossKind;
  readonly rowsPerAgent: number;
  readonly kappa: number;
}

/** One shard's agents: their data rows (agents × rowsPerAgent × d) and labels. */
export interface WalkShard {
  readonly shard: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Interior nodes of this shard (length of one token's interior visit block). */
  readonly interior: number;
}

/** A shard this worker holds, as a walk sees it: its agents and its interior visit entries (one block per token). */
export interface WalkPeer {
  readonly agents: WalkShard;
  readonly interior: Float64Array;
}

/** What advancing tokens did: hops, hops onto another shard, and hops off this worker (handoffs). */
export interface WalkCounters {
  hops: number;
  crossings: number;
  handoffs: number;
}

/** Scratch arrays sized for the graph (max row length, d); reused across tokens. */
export interface WalkScratch {
  readonly w: Float64Array;
  readonly dir: Float64Array;
}

export function walkScratch(g: WalkGraph): WalkScratch {
  let maxRow = 1;
  for (let i = 0; i < g.n; i++) maxRow = Math.max(maxRow, g.rowPtr[i + 1]! - g.rowPtr[i]!);
  return { w: new Float64Array(maxRow), dir: new Float64Array(g.d) };
}

/** log(e^p + e^q) without overflow. */
function logAddExp(p: number, q: number): number {
  return p > q ? p + Math.log1p(Math.exp(q - p)) : q + Math.log1p(Math.exp(p - q));
}

/**
 * Writes row i of K[x] into out (entries of the base chain's row, self-loop first): the kernel as
 * the walk samples it, for tests. r_j = log(y_j/μ_j) up to a common constant.
 */
export function kernelRow(g: WalkGraph, i: number, alpha: number, r: (j: number) => number, out: Float64Array): number {
  const lo = g.rowPtr[i]!;
  const hi = g.rowPtr[i + 1]!;
  let shift = -Infinity;
  if (alpha !== 0) for (let e = lo; e < hi; e++) if (g.prob[e]! > 0) shift = Math.max(shift, -alpha * r(g.col[e]!));
  let z = 0;
  for (let e = lo; e < hi; e++) {
    const w = alpha === 0 ? g.prob[e]! : g.prob[e]! * Math.exp(-alpha * r(g.col[e]!) - shift);
    out[e - lo] = w;
    z += w;
  }
  for (let e = lo; e < hi; e++) out[e - lo] = out[e - lo]! / z;
  return hi - lo;
}

/**
 * Step n → n+1 landing on `node` (an agent of this shard): the visit update
 * (S ← S/(1−γ), y_node += γS, in logs), then the SA step at θ_n. Returns the new log S.
 */
function arrive(
  g: WalkGraph,
  sh: WalkShard,
  rec: Float64Array,
  th: number,
  bnd: number,
  node: number,
  n: number,
  logS: number,
  ea: number,
  eb: number,
  interiorR: Float64Array,
  ibase: number,
  dir: Float64Array,
): number {
  const gamma = Math.pow(n + 2, -ea);
  const beta = Math.pow(n + 2, -eb);
  const ls = logS - Math.log1p(-gamma);
  const add = Math.log(gamma) + ls - g.lmu[node]!;
  const s = g.slot[node]!;
  if (s >= 0) rec[bnd + s] = logAddExp(rec[bnd + s]!, add);
  else interiorR[ibase - 1 - s] = logAddExp(interiorR[ibase - 1 - s]!, add);
  const d = g.d;
  const rpa = g.rowsPerAgent;
  dir.fill(0);
  const li = g.local[node]!;
  addDirection(g.loss, d, rpa, g.kappa, sh.x, li * rpa * d, sh.y, li * rpa, rec, th, g.weight[node]!, dir);
  for (let j = 0; j < d; j++) rec[th + j] = rec[th + j]! + beta * dir[j]!;
  return ls;
}

/**
 * Advances token `token`, whose record starts at rec[off] (advanced in place), while it stays on
 * agents of the shards in `peers` (indexed by shard; undefined = held elsewhere), until it has
 * walked `steps` steps or `hopCap` hops this call. A hop onto a shard not in `peers` is a handoff:
 * the token stops there with its arrival pending, for that shard's worker to apply.
 */
export function walkToken(
  g: WalkGraph,
  peers: ReadonlyArray<WalkPeer | undefined>,
  rec: Float64Array,
  off: number,
  params: Float64Array,
  pOff: number,
  walk: number,
  hopCap: number,
  token: number,
  scratch: WalkScratch,
  counters: WalkCounters,
): void {
  const alpha = params[pOff + TOKEN_PARAMS.ALPHA]!;
  const ea = params[pOff + TOKEN_PARAMS.A]!;
  const eb = params[pOff + TOKEN_PARAMS.B]!;
  const steps = params[pOff + TOKEN_PARAMS.STEPS]!;
  const th = off + TOKEN.THETA;
  const bnd = th + g.d;
  const w = scratch.w;
  const dir = scratch.dir;
  let n = rec[off + TOKEN.N]!;
  let node = rec[off + TOKEN.NODE]!;
  let prev = rec[off + TOKEN.PREV]!;
  let pending = rec[off + TOKEN.PENDING]!;
  let ra = rec[off + TOKEN.RNG]! | 0;
  let rb = rec[off + TOKEN.RNG + 1]! | 0;
  let rc = rec[off + TOKEN.RNG + 2]! | 0;
  let rd = rec[off + TOKEN.RNG + 3]! | 0;
  let logS = rec[off + TOKEN.LOG_S]!;
  let hops = 0;
  let crossings = 0;
  let handoffs = 0;
  let shard = g.shardOf[node]!;
  const peer = peers[shard];
  if (peer === undefined) throw new Error(`token ${token} is at node ${node} of shard ${shard}, which this walk does not hold`);
  let sh = peer.agents;
  let interiorR = peer.interior;
  let ibase = token * sh.interior;

  if (pending === 1) {
    logS = arrive(g, sh, rec, th, bnd, node, n, logS, ea, eb, interiorR, ibase, dir);
    n++;
    pending = 0;
  }
  while (n < steps && hops < hopCap) {
    // One uniform double from the token's sfc32 stream (KeyedRng.nextFloat, inlined).
    let t = (((ra + rb) | 0) + rd) | 0;
    rd = (rd + 1) | 0;
    ra = rb ^ (rb >>> 9);
    rb = (rc + (rc << 3)) | 0;
    rc = (rc << 21) | (rc >>> 11);
    rc = (rc + t) | 0;
    const hi = (t >>> 0) >>> 5;
    t = (((ra + rb) | 0) + rd) | 0;
    rd = (rd + 1) | 0;
    ra = rb ^ (rb >>> 9);
    rb = (rc + (rc << 3)) | 0;
    rc = (rc << 21) | (rc >>> 11);
    rc = (rc + t) | 0;
    const lo = (t >>> 0) >>> 6;
    const u = (hi * 67108864 + lo) / 9007199254740992;

    let next: number;
    if (walk === WALK_CODES.iid) {
      next = Math.min(g.n - 1, Math.floor(u * g.n));
    } else if (walk === WALK_CODES.nbrw) {
      const base = g.rowPtr[node]! + 1;
      const deg = g.rowPtr[node + 1]! - base;
      if (prev < 0 || deg === 1) next = g.col[base + Math.min(deg - 1, Math.floor(u * deg))]!;
      else {
        let k = Math.min(deg - 2, Math.floor(u * (deg - 1)));
        let e = base;
        for (; ; e++) {
          if (g.col[e] === prev) continue;
          if (k-- === 0) break;
        }
        next = g.col[e]!;
      }
    } else {
      const lo2 = g.rowPtr[node]!;
      const hi2 = g.rowPtr[node + 1]!;
      let z = 0;
      if (alpha === 0) {
        for (let e = lo2; e < hi2; e++) {
          w[e - lo2] = g.prob[e]!;
          z += g.prob[e]!;
        }
      } else {
        // Log weights with the largest subtracted (spec §1.7): no underflow at α = 20.
        let shift = -Infinity;
        for (let e = lo2; e < hi2; e++) {
          const j = g.col[e]!;
          const s = g.slot[j]!;
          const lw = -alpha * (s >= 0 ? rec[bnd + s]! : interiorR[ibase - 1 - s]!);
          w[e - lo2] = lw;
          if (g.prob[e]! > 0 && lw > shift) shift = lw;
        }
        for (let e = lo2; e < hi2; e++) {
          const v = g.prob[e]! * Math.exp(w[e - lo2]! - shift);
          w[e - lo2] = v;
          z += v;
        }
      }
      const target = u * z;
      let acc = 0;
      next = -1;
      for (let e = lo2; e < hi2; e++) {
        const v = w[e - lo2]!;
        if (v > 0) next = g.col[e]!;
        acc += v;
        if (target < acc) break;
      }
    }
    prev = node;
    node = next;
    hops++;
    const to = g.shardOf[next]!;
    if (to !== shard) {
      crossings++;
      const p = peers[to];
      if (p === undefined) {
        pending = 1;
        handoffs++;
        break;
      }
      // Another shard of this worker: keep walking with its agents and interior entries.
      shard = to;
      sh = p.agents;
      interiorR = p.interior;
      ibase = token * sh.interior;
    }
    logS = arrive(g, sh, rec, th, bnd, node, n, logS, ea, eb, interiorR, ibase, dir);
    n++;
  }
  rec[off + TOKEN.N] = n;
  rec[off + TOKEN.NODE] = node;
  rec[off + TOKEN.PREV] = prev;
  rec[off + TOKEN.PENDING] = pending;
  rec[off + TOKEN.RNG] = ra >>> 0;
  rec[off + TOKEN.RNG + 1] = rb >>> 0;
  rec[off + TOKEN.RNG + 2] = rc >>> 0;
  rec[off + TOKEN.RNG + 3] = rd >>> 0;
  rec[off + TOKEN.LOG_S] = logS;
  counters.hops += hops;
  counters.crossings += crossings;
  counters.handoffs += handoffs;
}
