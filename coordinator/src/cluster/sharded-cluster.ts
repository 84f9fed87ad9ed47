/**
 * The one Cluster implementation, over any set of WorkerEndpoints (in-process, gRPC or NATS):
 * places shards by rendezvous hashing, sends each worker one message per round (points once, its
 * shards' work), and combines the pre-reduced tree nodes in shard order. Membership is read at
 * every round boundary: when a worker joins or starts draining, the shards whose placement changes
 * move (data rebuilt on the new owner, sticky state exported from the old one) before the round
 * runs. Results never depend on placement, so a rebalanced run is bit-identical to an undisturbed one.
 */
import {
  opResultLength,
  opTakesIterates,
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
import {
  staticMembership,
  type Cluster,
  type JobLayout,
  type Membership,
  type RebalanceEvent,
  type RoundRequest,
  type RoundResult,
  type ShardSummary,
  type WorkerEndpoint,
} from './cluster.js';
import { rendezvousPlacement } from './placement.js';

export interface ShardedClusterOptions {
  /** Called after each rebalance. */
  onRebalance?: (e: RebalanceEvent) => void;
  /** Diagnostics sink. */
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export class ShardedCluster implements Cluster {
  private jobId = '';
  private spec: JobSpec | undefined;
  private layout: JobLayout | undefined;
  /** Owner of each shard. */
  private owner: WorkerEndpoint[] = [];
  /** The eligible set the current placement was computed for (ids, joined with ','). */
  private placedFor = '';
  private placedIds = new Set<string>();
  private rounds = 0;
  private readonly events: RebalanceEvent[] = [];
  private readonly membership: Membership;

  constructor(
    workers: readonly WorkerEndpoint[] | Membership,
    private readonly o: ShardedClusterOptions = {},
  ) {
    this.membership = Array.isArray(workers) ? staticMembership(workers as readonly WorkerEndpoint[]) : (workers as Membership);
    if (this.membership.eligible().length === 0) throw new OptfleetError(ERROR_CODES.FAILED_PRECONDITION, 'no workers to run the job on');
  }

  rebalances(): readonly RebalanceEvent[] {
    return this.events;
  }

  /** Workers holding shards now, each with its shards in ascending order. */
  private holders(): Map<WorkerEndpoint, number[]> {
    const m = new Map<WorkerEndpoint, number[]>();
    this.owner.forEach((w, s) => {
      const l = m.get(w);
      if (l === undefined) m.set(w, [s]);
      else l.push(s);
    });
    return m;
  }

  private static signature(ws: readonly WorkerEndpoint[]): string {
    return ws.map((w) => w.id).join(',');
  }

  async open(
    jobId: string,
    spec: JobSpec,
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
  ): Promise<JobLayout> {
    this.jobId = jobId;
    this.spec = spec;
    const eligible = [...this.membership.eligible()];
    if (eligible.length === 0) throw new OptfleetError(ERROR_CODES.FAILED_PRECONDITION, 'no workers to run the job on');
    const place = rendezvousPlacement(
      shardCount,
      eligible.map((w) => w.id),
    );
    this.owner = place.map((k) => eligible[k]!);
    this.placedFor = ShardedCluster.signature(eligible);
    this.placedIds = new Set(eligible.map((w) => w.id));
    const holders = [...this.holders()];
    const reports = await Promise.all(
      holders.map(([w, list]) =>
        w.open(
          jobId,
          spec,
          list,
          shardCount,
          states === undefined ? undefined : new Map(list.map((s) => [s, states.get(s) ?? {}] as const)),
          true,
        ),
      ),
    );
    const byShard = new Array<ShardSummary | undefined>(shardCount);
    reports.forEach((list, k) => {
      const w = holders[k]![0];
      for (const s of list) {
        if (this.owner[s.shard] !== w) throw invalidArgument(`worker ${w.name} reported shard ${s.shard}, which it was not given`);
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
      owners: this.owner.map((w) => w.name),
    };
    return this.layout;
  }

  /** Copies of every shard's sticky state (a checkpoint), fetched from the owners in parallel. */
  async exportStates(): Promise<Map<number, Record<string, Float64Array>>> {
    const parts = await Promise.all([...this.holders()].map(([w, list]) => w.exportShards(this.jobId, list)));
    const out = new Map<number, Record<string, Float64Array>>();
    for (let s = 0; s < this.owner.length; s++) {
      for (const p of parts) {
        const st = p.get(s);
        if (st !== undefined) out.set(s, st);
      }
      if (!out.has(s)) throw new OptfleetError(ERROR_CODES.INTERNAL, `no state came back for shard ${s}`);
    }
    return out;
  }

  /**
   * At a round boundary: when the eligible workers changed, move the shards whose rendezvous
   * owner changed. Order per move: export state from the old owner, open (rebuild data + import
   * state) on the new one, then release on the old one, so a failure before the release leaves
   * the old placement intact.
   */
  private async rebalance(layout: JobLayout): Promise<void> {
    const eligible = [...this.membership.eligible()];
    const sig = ShardedCluster.signature(eligible);
    if (sig === this.placedFor) return;
    if (eligible.length === 0) {
      // Everyone is draining: keep serving on the current owners until someone joins.
      return;
    }
    const t0 = performance.now();
    const spec = this.spec!;
    const place = rendezvousPlacement(
      layout.shardCount,
      eligible.map((w) => w.id),
    );
    const target = place.map((k) => eligible[k]!);
    const moves = new Map<WorkerEndpoint, Map<WorkerEndpoint, number[]>>(); // from → to → shards
    let moved = 0;
    for (let s = 0; s < layout.shardCount; s++) {
      const from = this.owner[s]!;
      const to = target[s]!;
      if (from === to) continue;
      moved++;
      let byTo = moves.get(from);
      if (byTo === undefined) moves.set(from, (byTo = new Map()));
      const l = byTo.get(to);
      if (l === undefined) byTo.set(to, [s]);
      else l.push(s);
    }
    const eligibleIds = new Set(eligible.map((w) => w.id));
    const joined = eligible.filter((w) => !this.placedIds.has(w.id)).map((w) => w.name);
    const left = [...new Set(this.owner)].filter((w) => !eligibleIds.has(w.id)).map((w) => w.name);
    // 1. Export the moving shards' sticky state from their current owners.
    const exported = await Promise.all(
      [...moves].map(async ([from, byTo]) => {
        const shards = [...byTo.values()].flat().sort((a, b) => a - b);
        return { from, states: await from.exportShards(this.jobId, shards) };
      }),
    );
    const states = new Map<number, Record<string, Float64Array>>();
    let stateBytes = 0;
    for (const e of exported) {
      for (const [s, rec] of e.states) {
        if (this.owner[s] !== e.from) throw invalidArgument(`worker ${e.from.name} exported shard ${s}, which it does not own`);
        states.set(s, rec);
        for (const v of Object.values(rec)) stateBytes += v.byteLength;
      }
    }
    // 2. Open them on their new owners with that state.
    const incoming = new Map<WorkerEndpoint, number[]>();
    for (const byTo of moves.values()) {
      for (const [to, l] of byTo) {
        const cur = incoming.get(to);
        if (cur === undefined) incoming.set(to, [...l]);
        else cur.push(...l);
      }
    }
    const opened = await Promise.allSettled(
      [...incoming].map(async ([to, list]) => {
        list.sort((a, b) => a - b);
        const mine = new Map(list.map((s) => [s, states.get(s) ?? {}] as const));
        const reports = await to.open(this.jobId, spec, list, layout.shardCount, mine);
        for (const r of reports) {
          const rows = layout.rowOffsets[r.shard + 1]! - layout.rowOffsets[r.shard]!;
          if (r.rows !== rows || r.cols !== layout.cols)
            throw invalidArgument(
              `worker ${to.name} rebuilt shard ${r.shard} with ${r.rows}×${r.cols}, but it was ${rows}×${layout.cols} (data changed under the job?)`,
            );
        }
        return { to, list };
      }),
    );
    const failed = opened.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      // Keep the old placement (its owners still hold everything); undo the opens that worked.
      await Promise.allSettled(opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value.to.release(this.jobId, r.value.list)] : [])));
      const why = failed.map((r) => String((r as PromiseRejectedResult).reason)).join('; ');
      this.o.log?.('warn', 'rebalance failed; keeping the old placement', { job: this.jobId, why });
      // Do not retry every round: wait for the next membership change.
      this.placedFor = sig;
      return;
    }
    // 3. The new owners hold the shards: switch, then release them on the old owners.
    for (const [to, list] of incoming) for (const s of list) this.owner[s] = to;
    // Best effort: a draining worker may exit (and be marked lost) the moment its last shard is
    // released, before its reply arrives; its copies are stale either way.
    const released = await Promise.allSettled(
      [...moves].map(async ([from, byTo]) => {
        const shards = [...byTo.values()].flat().sort((a, b) => a - b);
        await from.release(this.jobId, shards);
      }),
    );
    for (const r of released) {
      if (r.status === 'rejected')
        this.o.log?.('debug', 'release after a move failed (worker gone?)', { job: this.jobId, why: String(r.reason) });
    }
    this.placedFor = sig;
    this.placedIds = eligibleIds;
    const e: RebalanceEvent = {
      round: this.rounds,
      joined,
      left,
      shardsMoved: moved,
      stateBytes,
      seconds: (performance.now() - t0) / 1000,
      workers: new Set(this.owner).size,
    };
    this.events.push(e);
    this.o.log?.('info', 'rebalanced', { job: this.jobId, ...e });
    this.o.onRebalance?.(e);
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
    // token-walk's points are token records, checked against the walk tables by the task.
    if (opTakesIterates(req.op)) {
      const iterates = OP_POINTS[req.op] - OP_PARAM_POINTS[req.op];
      for (const [i, p] of req.points.entries()) {
        // Trailing parameter points (op settings) have their own length, checked by the task.
        if (i >= iterates) {
          if (p.length > MAX_OP_PARAMS)
            throw invalidArgument(`round.points[${i}]: ${p.length} parameters, over the limit of ${MAX_OP_PARAMS}`);
        } else if (p.length !== layout.cols) throw invalidArgument(`round.points[${i}]: ${p.length} values for ${layout.cols} features`);
      }
    }
    await this.rebalance(layout);
    const perWorker = new Map<WorkerEndpoint, Array<{ shard: number; indices: Uint32Array | null }>>();
    const add = (s: number, indices: Uint32Array | null): void => {
      const w = this.owner[s]!;
      const l = perWorker.get(w);
      if (l === undefined) perWorker.set(w, [{ shard: s, indices }]);
      else l.push({ shard: s, indices });
    };
    if (req.rows === 'all') {
      for (let s = 0; s < layout.shardCount; s++) add(s, null);
    } else {
      for (const [s, idx] of [...this.splitRows(req.rows, layout)].sort((a, b) => a[0] - b[0])) add(s, idx);
    }
    const expected = opResultLength(req.op, layout.cols, req.points);
    const replies = await Promise.all(
      [...perWorker].map(([w, work]) => w.round(this.jobId, req.op, req.points, work, expected).then((r) => ({ r, w }))),
    );
    this.rounds++;
    const nodes: TreeNodeValue[] = [];
    let bytesOut = 0;
    let bytesIn = 0;
    for (const reply of replies) {
      bytesOut += reply.r.bytesOut;
      bytesIn += reply.r.bytesIn;
      for (const n of reply.r.nodes) {
        this.checkNode(n, reply.w, expected);
        nodes.push(n);
      }
    }
    const sum = combineNodes(layout.shardCount, nodes);
    return { sum: sum ?? new Float64Array(expected), bytesOut, bytesIn };
  }

  /** A node must lie inside [0, S), belong wholly to the worker that sent it, and have the op's length. */
  private checkNode(n: TreeNodeValue, w: WorkerEndpoint, expected: number): void {
    const name = w.name;
    const S = this.owner.length;
    if (!(n.lo < n.hi && n.hi <= S))
      throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) is outside the job's ${S} shards`);
    for (let s = n.lo; s < n.hi; s++) {
      if (this.owner[s] !== w)
        throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) covers shard ${s}, which it does not own`);
    }
    if (n.value.length !== expected)
      throw invalidArgument(`worker ${name}: result node [${n.lo}, ${n.hi}) has ${n.value.length} values, expected ${expected}`);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.holders().keys()].map((w) => w.close(this.jobId)));
  }
}
