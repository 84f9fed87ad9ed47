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
  type JobSpec,
  type Op,
  type TreeNodeValue,
} from '@optfleet/proto';
import { maxRowNormSq } from './kernels/cpu/fused.js';
import { readDataFile, sliceRows, type ParsedDataFile } from './shards/data-file.js';
import { shardBytes, sharedF64, type ShardData } from './shards/shard-data.js';
import { OP_STATE } from './tasks/state.js';
import { noopWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { syntheticShard } from './shards/synthetic.js';
import { bilinearConstants, bilinearLipschitz, bilinearShard } from './shards/bilinear.js';
import { droLipschitz, droShard } from './shards/dro.js';
import { matrixGameLipschitz, matrixGameShard, policemanBurglar, readPayoffCsv } from './shards/matrix-game.js';
import { operatorDim, type OperatorData } from './tasks/operator.js';
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

  /** Builds or loads the listed shards of a job. Bad data is INVALID_ARGUMENT before any round. */
  async open(jobId: string, spec: JobSpec, shardIds: readonly number[], shardCount: number): Promise<ShardSummary[]> {
    if (!Number.isInteger(shardCount) || shardCount < 1) throw invalidArgument(`open.shardCount: ${shardCount} is not a positive integer`);
    const owned = new Set<number>();
    for (const s of shardIds) {
      if (!Number.isInteger(s) || s < 0 || s >= shardCount) throw invalidArgument(`open.shards: shard ${s} is outside [0, ${shardCount})`);
      if (owned.has(s)) throw invalidArgument(`open.shards: shard ${s} listed twice`);
      owned.add(s);
    }
    const shards = new Map<number, ShardData>();
    const problem = spec.problem;
    let operator: OperatorData | null = null;
    let mbbo: MbboProblem | null = null;
    if (problem.kind === 'mbbo-quadratic' || problem.kind === 'mbbo-ridge' || problem.kind === 'mbbo-hyperclean') {
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
    this.jobs.set(jobId, { spec, shardCount, shards, owned, operator, mbbo, state: new Map([...owned].map((sh) => [sh, {}])) });
    return [...shards.values()].sort((p, q) => p.shard - q.shard).map((sh) => summarize(sh, operator, mbbo));
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

  /** The shard's state record, with every slot the op needs allocated (zeros) on first use. */
  private stateFor(job: HostedJob, shard: ShardData, op: Op): Record<string, Float64Array> {
    const st = job.state.get(shard.shard)!;
    for (const slot of OP_STATE[op]) st[slot.name] ??= sharedF64(slot.length(shard.matrix.rows, job.spec));
    return st;
  }

  close(jobId: string): void {
    this.jobs.delete(jobId);
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
