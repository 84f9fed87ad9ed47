/**
 * SA-SRRW driver (ask/tell): holds every token's record (θ, PRNG state, step counter, current
 * agent, boundary visit entries) between rounds and asks for `token-walk` rounds on the shards
 * whose agents hold unfinished tokens. The walking itself happens on the workers; this only
 * hands records back and forth, so a token's trajectory never depends on placement or rounds.
 */
import {
  COORDINATOR_SHARD,
  ERROR_CODES,
  KeyedRng,
  OptfleetError,
  TOKEN,
  TOKEN_PARAMS,
  TOKEN_TRAILER,
  WALK_CODES,
  tokenRecordLength,
  type SaSrrwSpec,
} from '@optfleet/proto';
import type { Ask, Driver, DriverState, Observation } from '../driver.js';

export interface SrrwLayout {
  readonly nodes: number;
  readonly d: number;
  /** Visit entries carried by each token. */
  readonly boundary: number;
  /** Global row (agent index in shard order) of each node: what the cluster routes by. */
  readonly rowOfNode: Int32Array;
  readonly seed: number;
}

/** Token t's α is alpha[⌊t / tokensPerAlpha⌋]; its PRNG is keyed by (seed, t) only. */
export function tokenStart(seed: number, t: number, nodes: number): { node: number; rng: [number, number, number, number] } {
  const start = new KeyedRng(seed, t, COORDINATOR_SHARD, 'srrw-start');
  return { node: start.nextInt(nodes), rng: new KeyedRng(seed, t, COORDINATOR_SHARD, 'srrw-walk').state() };
}

/** About 8 log-spaced step counts per decade from 10 to `steps`, and `steps` itself. */
export function checkpointSteps(steps: number): number[] {
  const out = new Set<number>();
  for (let k = 8; ; k++) {
    const n = Math.round(10 ** (k / 8));
    if (n >= steps) break;
    out.add(n);
  }
  out.add(steps);
  return [...out].sort((p, q) => p - q);
}

export class SrrwDriver implements Driver {
  readonly tokens: number;
  readonly len: number;
  private records: Float64Array;
  readonly params: Float64Array;
  private active: Int32Array = new Int32Array(0);
  private hopsTotal = 0;
  private crossingsTotal = 0;
  private handoffsTotal = 0;
  private rounds = 0;
  /** Step counts where every token pauses so the MSE is measured at the same n on any placement. */
  readonly marks: number[];
  private markIdx = 0;
  private reached: number | null = null;

  constructor(
    private readonly alg: SaSrrwSpec,
    private readonly layout: SrrwLayout,
  ) {
    this.tokens = alg.tokens * alg.alpha.length;
    this.len = tokenRecordLength(layout.d, layout.boundary);
    this.records = new Float64Array(this.tokens * this.len);
    this.params = new Float64Array(TOKEN_PARAMS.HEADER + this.tokens * TOKEN_PARAMS.PER_TOKEN);
    this.marks = checkpointSteps(alg.steps);
    this.params[TOKEN_PARAMS.HOP_CAP] = alg.hopsPerRound;
    this.params[TOKEN_PARAMS.WALK] = WALK_CODES[alg.walk];
    for (let t = 0; t < this.tokens; t++) {
      const off = t * this.len;
      const s = tokenStart(layout.seed, t, layout.nodes);
      this.records[off + TOKEN.NODE] = s.node;
      this.records[off + TOKEN.PREV] = -1;
      for (let k = 0; k < 4; k++) this.records[off + TOKEN.RNG + k] = s.rng[k]!;
      const p = TOKEN_PARAMS.HEADER + t * TOKEN_PARAMS.PER_TOKEN;
      this.params[p + TOKEN_PARAMS.ALPHA] = this.alphaOf(t);
      this.params[p + TOKEN_PARAMS.A] = alg.a;
      this.params[p + TOKEN_PARAMS.B] = alg.b;
      this.params[p + TOKEN_PARAMS.STEPS] = alg.steps;
    }
  }

  alphaOf(t: number): number {
    return this.alg.alpha[Math.floor(t / this.alg.tokens)]!;
  }

  /** Steps token t has walked. */
  stepsOf(t: number): number {
    return this.records[t * this.len + TOKEN.N]!;
  }

  /** θ of token t (a view: do not mutate). */
  thetaOf(t: number): Float64Array {
    const off = t * this.len + TOKEN.THETA;
    return this.records.subarray(off, off + this.layout.d);
  }

  nodeOf(t: number): number {
    return this.records[t * this.len + TOKEN.NODE]!;
  }

  /** The checkpoint all tokens just reached (once), or null. */
  takeCheckpoint(): number | null {
    const r = this.reached;
    this.reached = null;
    return r;
  }

  ask(): Ask {
    const target = this.marks[this.markIdx];
    if (target === undefined) return { kind: 'done', reason: `every token walked ${this.alg.steps} steps` };
    const act: number[] = [];
    for (let t = 0; t < this.tokens; t++) {
      if (this.stepsOf(t) < target) act.push(t);
      this.params[TOKEN_PARAMS.HEADER + t * TOKEN_PARAMS.PER_TOKEN + TOKEN_PARAMS.STEPS] = target;
    }
    if (act.length === 0) throw new OptfleetError(ERROR_CODES.INTERNAL, `no token below checkpoint ${target}`);
    this.active = Int32Array.from(act);
    // Route by the agents holding unfinished tokens: only their shards' workers get a message.
    const rows = [...new Set(act.map((t) => this.layout.rowOfNode[this.nodeOf(t)]!))].sort((p, q) => p - q);
    return { kind: 'round', op: 'token-walk', points: [this.records, this.params], rows: Uint32Array.from(rows), purpose: 'algorithm' };
  }

  tell(sum: Float64Array): Observation | null {
    if (sum.length !== this.records.length + TOKEN_TRAILER) {
      throw new OptfleetError(
        ERROR_CODES.INTERNAL,
        `token-walk result has ${sum.length} values, expected ${this.records.length + TOKEN_TRAILER}`,
      );
    }
    const next = this.records.slice();
    for (const t of this.active) {
      const off = t * this.len;
      // The shard holding a token returns its whole record; a zero RNG state means nobody advanced it.
      if (sum[off + TOKEN.RNG + 3] === 0 && sum[off + TOKEN.RNG] === 0) {
        throw new OptfleetError(ERROR_CODES.INTERNAL, `token ${t} at node ${this.nodeOf(t)} came back from no shard`);
      }
      next.set(sum.subarray(off, off + this.len), off);
    }
    this.records = next;
    this.hopsTotal += sum[this.records.length]!;
    this.crossingsTotal += sum[this.records.length + 1]!;
    this.handoffsTotal += sum[this.records.length + 2]!;
    this.rounds++;
    const target = this.marks[this.markIdx]!;
    let all = true;
    for (let t = 0; t < this.tokens && all; t++) all = this.stepsOf(t) >= target;
    if (all) {
      this.reached = target;
      this.markIdx++;
    }
    return null;
  }

  /** Every token's θ, token after token (α-major). */
  iterate(): Float64Array {
    const d = this.layout.d;
    const out = new Float64Array(this.tokens * d);
    for (let t = 0; t < this.tokens; t++) out.set(this.thetaOf(t), t * d);
    return out;
  }

  iterations(): number {
    let s = 0;
    for (let t = 0; t < this.tokens; t++) s += this.stepsOf(t);
    return s;
  }

  hops(): number {
    return this.hopsTotal;
  }

  /** Hops onto another shard (a property of the trajectories: the same on any placement). */
  crossings(): number {
    return this.crossingsTotal;
  }

  /** Hops onto a shard held by another worker: the tokens handed over between rounds. */
  handoffs(): number {
    return this.handoffsTotal;
  }

  snapshot(): DriverState {
    return {
      records: Array.from(this.records),
      hops: this.hopsTotal,
      crossings: this.crossingsTotal,
      handoffs: this.handoffsTotal,
      rounds: this.rounds,
      markIdx: this.markIdx,
    };
  }

  restore(state: DriverState): void {
    const r = state['records'];
    if (!Array.isArray(r) || r.length !== this.records.length)
      throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'snapshot.records: wrong length');
    this.records = Float64Array.from(r as number[]);
    this.hopsTotal = Number(state['hops']);
    this.crossingsTotal = Number(state['crossings']);
    this.handoffsTotal = Number(state['handoffs']);
    this.rounds = Number(state['rounds']);
    this.markIdx = Number(state['markIdx']);
  }
}
