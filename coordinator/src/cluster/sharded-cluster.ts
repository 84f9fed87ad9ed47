/**
 * The one Cluster implementation, over any set of WorkerEndpoints (in-process or gRPC): places
 * shards, sends each worker one message per round (points once, its shards' work), and combines
 * the pre-reduced tree nodes in shard order.
 */
import {
  opResultLength,
  combineNodes,
  invalidArgument,
  ERROR_CODES,
  OptfleetError,
  OP_POINTS,
  OP_PARAM_POINTS,
  MAX_OP_PARAMS,
  type JobSpec,
  type TreeNodeValue,
} from '@optfleet/proto';
import type { Cluster, JobLayout, RoundRequest, RoundResult, ShardSummary, WorkerEndpoint } from './cluster.js';
import { placeShards } from './placement.js';

export class ShardedCluster implements Cluster {
  private jobId = '';
  private layout: JobLayout | undefined;
  private assignment: number[][] = [];
  private shardOwner: number[] = [];

  constructor(private readonly workers: readonly WorkerEndpoint[]) {
    if (workers.length === 0) throw new OptfleetError(ERROR_CODES.FAILED_PRECONDITION, 'no workers to run the job on');
  }

  async open(jobId: string, spec: JobSpec, shardCount: number): Promise<JobLayout> {
    this.jobId = jobId;
    this.assignment = placeShards(shardCount, this.workers.length);
    this.shardOwner = new Array<number>(shardCount).fill(-1);
    this.assignment.forEach((list, k) => list.forEach((s) => (this.shardOwner[s] = k)));
    const reports = await Promise.all(
      this.workers.map((w, k) =>
        this.assignment[k]!.length === 0 ? Promise.resolve([]) : w.open(jobId, spec, this.assignment[k]!, shardCount),
      ),
    );
    const byShard = new Array<ShardSummary | undefined>(shardCount);
    reports.forEach((list, k) => {
      for (const s of list) {
        if (this.shardOwner[s.shard] !== k) {
          throw invalidArgument(`worker ${this.workers[k]!.name} reported shard ${s.shard}, which it was not given`);
        }
        byShard[s.shard] = s;
      }
    });
    const rowOffsets: number[] = [0];
    let cols = -1;
    let nnz = 0;
    let bytes = 0;
    let maxRowNormSq = 0;
    let lipschitz = 0;
    for (let s = 0; s < shardCount; s++) {
      const info = byShard[s];
      if (info === undefined) throw new OptfleetError(ERROR_CODES.INTERNAL, `shard ${s} was not reported by its worker`);
      if (cols === -1) cols = info.cols;
      else if (info.cols !== cols) {
        throw invalidArgument(`shard ${s} has ${info.cols} features but shard 0 has ${cols} (set problem.data.features)`);
      }
      rowOffsets.push(rowOffsets[s]! + info.rows);
      nnz += info.nnz;
      bytes += info.bytes;
      maxRowNormSq = Math.max(maxRowNormSq, info.maxRowNormSq);
      lipschitz = Math.max(lipschitz, info.lipschitz);
    }
    const rows = rowOffsets[shardCount]!;
    if (rows === 0) throw invalidArgument('problem.data: the data has no rows');
    this.layout = {
      shardCount,
      rows,
      cols,
      nnz,
      bytes,
      maxRowNormSq,
      lipschitz,
      rowOffsets,
      owners: this.shardOwner.map((k) => this.workers[k]!.name),
    };
    return this.layout;
  }

  /** Splits global rows into per-shard local index lists (in the order given). */
  private splitRows(rows: Uint32Array, layout: JobLayout): Map<number, Uint32Array> {
    const offsets = layout.rowOffsets;
    const counts = new Uint32Array(layout.shardCount);
    const shardOf = new Uint32Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k]!;
      if (r >= layout.rows) throw invalidArgument(`round.rows[${k}]: row ${r} is past the job's ${layout.rows} rows`);
      // Binary search for the shard whose range holds r.
      let lo = 0;
      let hi = layout.shardCount - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (offsets[mid]! <= r) lo = mid;
        else hi = mid - 1;
      }
      shardOf[k] = lo;
      counts[lo]!++;
    }
    const out = new Map<number, Uint32Array>();
    const fill = new Uint32Array(layout.shardCount);
    for (let k = 0; k < rows.length; k++) {
      const s = shardOf[k]!;
      let arr = out.get(s);
      if (arr === undefined) {
        arr = new Uint32Array(counts[s]!);
        out.set(s, arr);
      }
      arr[fill[s]!++] = rows[k]! - offsets[s]!;
    }
    return out;
  }

  async round(req: RoundRequest): Promise<RoundResult> {
    const layout = this.layout;
    if (layout === undefined) throw new OptfleetError(ERROR_CODES.FAILED_PRECONDITION, 'round before open');
    if (req.points.length !== OP_POINTS[req.op]) throw invalidArgument(`round.points: op ${req.op} takes ${OP_POINTS[req.op]} points`);
    const iterates = OP_POINTS[req.op] - OP_PARAM_POINTS[req.op];
    for (const [i, p] of req.points.entries()) {
      // Trailing parameter points (op settings) have their own length, checked by the task.
      if (i >= iterates) {
        if (p.length > MAX_OP_PARAMS)
          throw invalidArgument(`round.points[${i}]: ${p.length} parameters, over the limit of ${MAX_OP_PARAMS}`);
      } else if (p.length !== layout.cols) throw invalidArgument(`round.points[${i}]: ${p.length} values for ${layout.cols} features`);
    }
    const perWorker: Array<Array<{ shard: number; indices: Uint32Array | null }>> = this.workers.map(() => []);
    if (req.rows === 'all') {
      this.assignment.forEach((list, k) => list.forEach((s) => perWorker[k]!.push({ shard: s, indices: null })));
    } else {
      for (const [s, idx] of [...this.splitRows(req.rows, layout)].sort((a, b) => a[0] - b[0])) {
        perWorker[this.shardOwner[s]!]!.push({ shard: s, indices: idx });
      }
    }
    const expected = opResultLength(req.op, layout.cols);
    const replies = await Promise.all(
      this.workers.map((w, k) =>
        perWorker[k]!.length === 0
          ? Promise.resolve(undefined)
          : w.round(this.jobId, req.op, req.points, perWorker[k]!, expected).then((r) => ({ r, k })),
      ),
    );
    const nodes: TreeNodeValue[] = [];
    let bytesOut = 0;
    let bytesIn = 0;
    for (const reply of replies) {
      if (reply === undefined) continue;
      bytesOut += reply.r.bytesOut;
      bytesIn += reply.r.bytesIn;
      for (const n of reply.r.nodes) {
        this.checkNode(n, reply.k, expected);
        nodes.push(n);
      }
    }
    const sum = combineNodes(layout.shardCount, nodes);
    return { sum: sum ?? new Float64Array(expected), bytesOut, bytesIn };
  }

  /** A node must lie inside [0, S), belong wholly to the worker that sent it, and have the op's length. */
  private checkNode(n: TreeNodeValue, k: number, expected: number): void {
    const name = this.workers[k]!.name;
    const S = this.shardOwner.length;
    if (!(n.lo < n.hi && n.hi <= S))
      throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) is outside the job's ${S} shards`);
    for (let s = n.lo; s < n.hi; s++) {
      if (this.shardOwner[s] !== k)
        throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) covers shard ${s}, which it does not own`);
    }
    if (n.value.length !== expected)
      throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) has ${n.value.length} values, expected ${expected}`);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w, k) => (this.assignment[k]?.length ? w.close(this.jobId) : Promise.resolve())));
  }
}
