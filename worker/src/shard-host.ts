/**
 * Holds the shards of every job this worker serves and runs round ops on them. Transport-free:
 * the gRPC agent and the in-process cluster both drive it. Results of shards in one owned subtree
 * of the reduction tree are pre-reduced here, so a worker sends about one vector per round.
 */
import {
  OptfleetError,
  ERROR_CODES,
  invalidArgument,
  preReduce,
  shardRange,
  buildGraph,
  type JobSpec,
  type Op,
  type TreeNodeValue,
} from '@optfleet/proto';
import { maxRowNormSq } from './kernels/cpu/fused.js';
import { readDataFile, sliceRows, type ParsedDataFile } from './shards/data-file.js';
import { shardBytes, sharedF64, type ShardData } from './shards/shard-data.js';
import { OP_STATE, SRRW_INTERIOR } from './tasks/state.js';
import type { WalkPeer } from './kernels/cpu/srrw-walk.js';
import { noopWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { syntheticShard } from './shards/synthetic.js';
import { bilinearConstants, bilinearLipschitz, bilinearShard } from './shards/bilinear.js';
import { droLipschitz, droShard } from './shards/dro.js';
import { matrixGameLipschitz, matrixGameShard, policemanBurglar, readPayoffCsv } from './shards/matrix-game.js';
import { operatorDim, type OperatorData } from './tasks/operator.js';
import { walkJob, walkShardData } from './shards/graph-token.js';
import { mbboDataSeed, mbboLipschitz, mbboProblem, mbboShard, type MbboProblem } from './shards/mbbo.js';
import type { OpExecutor } from './executor.js';

/** What a worker reports about each shard it built. */
export interface ShardSummary {
  readonly shard: number;
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly maxRowNormSq: number;
  /** Operator problems: bound on the per-component cocoercivity (μ > 0) or Lipschitz constant. */
  readonly lipschitz: number;
  readonly bytes: number;
}

export interface ShardWorkItem {
  readonly shard: number;
  /** Local row indices, or null for all rows. */
  readonly indices: Uint32Array | null;
}

export interface RoundWork {
  readonly op: Op;
  readonly points: readonly Float64Array[];
  readonly work: readonly ShardWorkItem[];
}

interface HostedJob {
  readonly spec: JobSpec;
  readonly shardCount: number;
  readonly shards: Map<number, ShardData>;
  readonly owned: Set<number>;
  /** Sticky per-shard state (SharedArrayBuffer-backed), kept between rounds. */
  readonly state: Map<number, Record<string, Float64Array>>;
  /** Operator problems: what the kernels need besides the rows; null for minimisation. */
  readonly operator: OperatorData | null;
  /** Multi-block bilevel problems: block layout and sizes; null otherwise. */
  readonly mbbo: MbboProblem | null;
}

function summarize(s: ShardData, op: OperatorData | null, mbbo: MbboProblem | null): ShardSummary {
  const m = s.matrix;
  if (s.walk !== undefined) {
    // graph-token: one row per agent (the cluster's row offsets index agents in shard order).
    const agents = m.rows / s.walk.graph.rowsPerAgent;
    return {
      shard: s.shard,
      rows: agents,
      cols: s.walk.graph.d,
      nnz: m.rows * m.cols,
      maxRowNormSq: 0,
      lipschitz: 0,
      bytes: shardBytes(s),
    };
  }
  if (mbbo !== null) {
    // Rows are blocks, columns the upper dimension d; lipschitz is the L_g bound of the step guard.
    return {
      shard: s.shard,
      rows: m.rows,
      cols: mbbo.d,
      nnz: m.rows * m.cols,
      maxRowNormSq: 0,
      lipschitz: mbboLipschitz(mbbo, s),
      bytes: shardBytes(s),
    };
  }
  return {
    shard: s.shard,
    rows: m.rows,
    cols: op === null ? m.cols : operatorDim(op),
    nnz: m.kind === 'dense' ? m.rows * m.cols : m.indptr[m.rows]!,
    maxRowNormSq: op === null ? maxRowNormSq(m) : 0,
    lipschitz:
      op === null
        ? 0
        : op.kind === 'bilinear-game'
          ? bilinearLipschitz(op.game, s)
          : op.kind === 'matrix-game'
            ? matrixGameLipschitz(op.size, s)
            : droLipschitz(s),
    bytes: shardBytes(s),
  };
}

export class ShardHost {
  private readonly jobs = new Map<string, HostedJob>();

  constructor(
    private readonly executor: OpExecutor,
    private readonly metrics: WorkerMetrics = noopWorkerMetrics,
  ) {}

  /**
   * Builds or loads the listed shards of a job. Bad data is INVALID_ARGUMENT before any round.
   * Opening more shards of a job already held here adds them (an elastic rebalance), with the
   * sticky state their previous owner exported, when given; `replace` drops what is held first.
   */
  async open(
    jobId: string,
    spec: JobSpec,
    shardIds: readonly number[],
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
    replace = false,
  ): Promise<ShardSummary[]> {
    if (!Number.isInteger(shardCount) || shardCount < 1) throw invalidArgument(`open.shardCount: ${shardCount} is not a positive integer`);
    // A resumed job starts over here: whatever an earlier coordinator left of it is stale.
    if (replace) this.jobs.delete(jobId);
    const existing = this.jobs.get(jobId);
    if (existing !== undefined && existing.shardCount !== shardCount)
      throw invalidArgument(`open.shardCount: job ${jobId} is open here with ${existing.shardCount} shards, not ${shardCount}`);
    const owned = new Set<number>();
    for (const s of shardIds) {
      if (!Number.isInteger(s) || s < 0 || s >= shardCount) throw invalidArgument(`open.shards: shard ${s} is outside [0, ${shardCount})`);
      if (owned.has(s)) throw invalidArgument(`open.shards: shard ${s} listed twice`);
      if (existing?.owned.has(s) === true) throw invalidArgument(`open.shards: shard ${s} of job ${jobId} is already held here`);
      owned.add(s);
    }
    for (const s of states?.keys() ?? []) {
      if (!owned.has(s)) throw invalidArgument(`open.states: state for shard ${s}, which is not being opened`);
    }
    const shards = new Map<number, ShardData>();
    const problem = spec.problem;
    let operator: OperatorData | null = null;
    let mbbo: MbboProblem | null = null;
    if (problem.kind === 'graph-token') {
      if (spec.algorithm.name !== 'sa-srrw') throw invalidArgument('spec.algorithm.name: graph-token problems run sa-srrw');
      const g = await buildGraph(problem, spec.seed);
      const job = walkJob(problem, spec.algorithm, spec.seed, g, shardCount);
      for (const s of owned) shards.set(s, walkShardData(job, s));
    } else if (problem.kind === 'mbbo-quadratic' || problem.kind === 'mbbo-ridge' || problem.kind === 'mbbo-hyperclean') {
      mbbo = mbboProblem(problem, spec.seed);
      const dataSeed = mbboDataSeed(problem, spec.seed);
      for (const s of owned) {
        const [a, b] = shardRange(mbbo.m, shardCount, s);
        shards.set(s, mbboShard(problem, mbbo, dataSeed, s, a, b));
      }
    } else if (problem.kind === 'bilinear-game') {
      const data = problem.data;
      const seed = data.seed ?? spec.seed;
      const game = bilinearConstants(seed, data.m, data.mu, data.sigma);
      operator = { kind: 'bilinear-game', game };
      for (const s of owned) {
        const [a, b] = shardRange(data.n, shardCount, s);
        shards.set(s, bilinearShard(game, seed, data.n, s, a, b));
      }
    } else if (problem.kind === 'matrix-game') {
      const data = problem.data;
      const { N, A } =
        data.source === 'synthetic'
          ? { N: data.n, A: policemanBurglar(data.seed ?? spec.seed, data.n, data.theta) }
          : await readPayoffCsv(data.path, data.header);
      operator = { kind: 'matrix-game', size: N };
      for (const s of owned) {
        const [a, b] = shardRange(N, shardCount, s);
        shards.set(s, matrixGameShard(A, N, s, a, b));
      }
    } else if (problem.kind === 'dro-logistic') {
      const data = problem.data;
      operator = { kind: 'dro-logistic', n: data.n, d: data.d };
      for (const s of owned) {
        const [a, b] = shardRange(data.n, shardCount, s);
        shards.set(s, droShard(data.seed ?? spec.seed, data.d, data.flip, s, a, b));
      }
    } else if (problem.data.source === 'synthetic') {
      const data = problem.data;
      for (const s of owned) {
        const [a, b] = shardRange(data.n, shardCount, s);
        shards.set(s, syntheticShard({ kind: problem.kind, seed: data.seed ?? spec.seed, d: data.d, noise: data.noise }, s, a, b));
      }
    } else if (owned.size > 0) {
      const data = problem.data;
      const file: ParsedDataFile = await readDataFile({
        path: data.path,
        format: data.format,
        ...(data.features === undefined ? {} : { features: data.features }),
        zeroBased: data.zeroBased,
        labelColumn: data.labelColumn,
        header: data.header,
        binaryLabels: problem.kind === 'logistic',
      });
      for (const s of owned) {
        const [a, b] = shardRange(file.rows, shardCount, s);
        shards.set(s, sliceRows(file, s, a, b));
      }
    }
    const state = new Map<number, Record<string, Float64Array>>();
    for (const sh of owned) {
      // Imported state goes into fresh SharedArrayBuffers: pool threads update it in place.
      const rec: Record<string, Float64Array> = {};
      for (const [name, v] of Object.entries(states?.get(sh) ?? {})) {
        const a = sharedF64(v.length);
        a.set(v);
        rec[name] = a;
      }
      state.set(sh, rec);
    }
    const opened = [...shards.values()].sort((p, q) => p.shard - q.shard).map((sh) => summarize(sh, operator, mbbo));
    if (existing !== undefined) {
      for (const [k, v] of shards) existing.shards.set(k, v);
      for (const k of owned) existing.owned.add(k);
      for (const [k, v] of state) existing.state.set(k, v);
    } else {
      this.jobs.set(jobId, { spec, shardCount, shards, owned, operator, mbbo, state });
    }
    return opened;
  }

  /** Copies of the sticky state of the listed shards (they stay held until release). */
  exportState(jobId: string, shardIds: readonly number[]): Map<number, Record<string, Float64Array>> {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new OptfleetError(ERROR_CODES.NOT_FOUND, `job ${jobId} has no shards on this worker`);
    const out = new Map<number, Record<string, Float64Array>>();
    for (const s of shardIds) {
      const st = job.state.get(s);
      if (st === undefined) throw invalidArgument(`export.shards: shard ${s} of job ${jobId} is not held by this worker`);
      const copy: Record<string, Float64Array> = {};
      for (const [name, v] of Object.entries(st)) copy[name] = v.slice();
      out.set(s, copy);
    }
    return out;
  }

  /** Drops the listed shards of a job (moved to another worker); returns how many remain. */
  release(jobId: string, shardIds: readonly number[]): number {
    const job = this.jobs.get(jobId);
    if (job === undefined) return 0;
    for (const s of shardIds) {
      if (!job.owned.has(s)) throw invalidArgument(`release.shards: shard ${s} of job ${jobId} is not held by this worker`);
    }
    for (const s of shardIds) {
      job.owned.delete(s);
      job.shards.delete(s);
      job.state.delete(s);
    }
    if (job.owned.size === 0) this.jobs.delete(jobId);
    return job.owned.size;
  }

  /** Runs one op on the listed shards (in parallel on the executor) and pre-reduces owned subtrees. */
  async round(jobId: string, w: RoundWork, signal?: AbortSignal): Promise<TreeNodeValue[]> {
    const job = this.jobs.get(jobId);
    if (job === undefined) throw new OptfleetError(ERROR_CODES.NOT_FOUND, `job ${jobId} has no shards on this worker (was it opened?)`);
    // Operator problems have no loss; the kernels take the game constants instead.
    const kind = job.spec.problem.kind;
    const loss = kind === 'logistic' || kind === 'least-squares' ? kind : 'least-squares';
    const inputs = w.work.map((item) => {
      const shard = job.shards.get(item.shard);
      if (shard === undefined) throw invalidArgument(`round.shards: shard ${item.shard} is not held by this worker`);
      return {
        op: w.op,
        loss,
        shard,
        points: w.points,
        indices: item.indices,
        state: this.stateFor(job, shard, w.op),
        operator: job.operator,
        ...(w.op === 'token-walk' ? { walkPeers: this.walkPeers(job) } : {}),
        mbbo: job.mbbo,
      };
    });
    const t0 = performance.now();
    let values: Float64Array[];
    try {
      values = await this.executor.runMany(inputs, signal);
    } catch (e) {
      this.metrics.task(w.op, 'error', (performance.now() - t0) / 1000);
      throw e;
    }
    this.metrics.task(w.op, 'ok', (performance.now() - t0) / 1000);
    const results = new Map<number, Float64Array>(w.work.map((item, i) => [item.shard, values[i]!] as const));
    return preReduce(job.shardCount, job.owned, results);
  }

  /** token-walk: every shard of the job held here with its interior visit state (allocated now). */
  private walkPeers(job: HostedJob): Array<WalkPeer | undefined> {
    const peers = new Array<WalkPeer | undefined>(job.shardCount);
    for (const sh of job.shards.values()) {
      if (sh.walk === undefined) continue;
      const interior = this.stateFor(job, sh, 'token-walk')[SRRW_INTERIOR.name]!;
      peers[sh.shard] = { agents: sh.walk.agents, interior };
    }
    return peers;
  }

  /** The shard's state record, with every slot the op needs allocated (zeros) on first use. */
  private stateFor(job: HostedJob, shard: ShardData, op: Op): Record<string, Float64Array> {
    const st = job.state.get(shard.shard)!;
    for (const slot of OP_STATE[op]) st[slot.name] ??= sharedF64(slot.length(shard, job.spec));
    return st;
  }

  close(jobId: string): void {
    this.jobs.delete(jobId);
  }

  /** Drops every job (the coordinator that opened them is gone). */
  closeAll(): void {
    this.jobs.clear();
  }

  /** Shards held across jobs, and their bytes. */
  holdings(): { shards: number; bytes: number } {
    let shards = 0;
    let bytes = 0;
    for (const j of this.jobs.values()) {
      for (const s of j.shards.values()) {
        shards++;
        bytes += shardBytes(s);
      }
      for (const st of j.state.values()) for (const a of Object.values(st)) bytes += a.byteLength;
    }
    return { shards, bytes };
  }
}
