/**
 * A worker connected over a transport (the gRPC worker channel or NATS), seen as a WorkerEndpoint. Each task waits for
 * its TaskResult by task id; when the stream ends or heartbeats stop, every pending task rejects
 * with WORKER_LOST naming the worker, so a dead worker never hangs a job.
 */
import {
  ERROR_CODES,
  LIMITS,
  OptfleetError,
  decodeF64,
  f64Tensor,
  invalidArgument,
  u32Tensor,
  type JobSpec,
  type Op,
  type TaskMessage,
  type TaskResultMessage,
  type TreeNodeValue,
} from '@optfleet/proto';
import type { ShardSummary, WorkerEndpoint } from '../../cluster/cluster.js';

type Outcome = NonNullable<TaskResultMessage['outcome']>;

interface Pending {
  readonly resolve: (o: Outcome) => void;
  readonly reject: (e: OptfleetError) => void;
}

export interface RemoteWorkerInfo {
  readonly id: string;
  readonly name: string;
  readonly threads: number;
  readonly memoryBytes: number;
  readonly backend: string;
  readonly pid: number;
  readonly hostname: string;
}

export class RemoteWorker implements WorkerEndpoint {
  private nextTask = 1;
  private readonly pending = new Map<number, Pending>();
  private lostError: OptfleetError | undefined;
  lastHeartbeatMs = Date.now();
  /** Set when the worker announced it is leaving (SIGTERM): it gets no new shards. */
  draining = false;

  /**
   * @param post hands a task to the transport (a gRPC stream write, a NATS request); results come
   *   back through deliver(), transport failures through markLost().
   */
  constructor(
    readonly info: RemoteWorkerInfo,
    private readonly post: (task: TaskMessage) => void,
  ) {}

  get id(): string {
    return this.info.id;
  }

  get name(): string {
    return `${this.info.id} (${this.info.name}, pid ${this.info.pid})`;
  }

  get alive(): boolean {
    return this.lostError === undefined;
  }

  /** Marks the worker lost and fails every pending task with WORKER_LOST. */
  markLost(why: string): void {
    if (this.lostError !== undefined) return;
    this.lostError = new OptfleetError(ERROR_CODES.WORKER_LOST, `worker ${this.name} was lost: ${why}`, { retryable: true });
    for (const p of this.pending.values()) p.reject(this.lostError);
    this.pending.clear();
  }

  /** Delivers a task result from the stream. Unknown task ids are ignored (a cancelled task). */
  deliver(r: TaskResultMessage): void {
    const p = this.pending.get(r.taskId);
    if (p === undefined) return;
    this.pending.delete(r.taskId);
    if (r.outcome === undefined) p.reject(invalidArgument(`worker ${this.name}: task result ${r.taskId} has no outcome`));
    else p.resolve(r.outcome);
  }

  private send(jobId: string, kind: NonNullable<TaskMessage['kind']>): Promise<Outcome> {
    if (this.lostError !== undefined) return Promise.reject(this.lostError);
    const taskId = this.nextTask++;
    return new Promise<Outcome>((resolve, reject) => {
      this.pending.set(taskId, { resolve, reject });
      this.post({ taskId, jobId, kind });
    });
  }

  private static fail(o: Outcome, want: string, name: string): never {
    if (o.$case === 'error') throw OptfleetError.fromWire(o.value);
    throw invalidArgument(`worker ${name}: expected a ${want} result, got ${o.$case}`);
  }

  async open(
    jobId: string,
    spec: JobSpec,
    shards: readonly number[],
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
    replace = false,
  ): Promise<ShardSummary[]> {
    const wireStates = [...(states ?? new Map<number, Record<string, Float64Array>>())].map(([shard, rec]) => ({
      shard,
      slots: Object.entries(rec).map(([name, v]) => ({ name, value: f64Tensor(v) })),
    }));
    const o = await this.send(jobId, {
      $case: 'open',
      value: { jobSpecJson: JSON.stringify(spec), shards: [...shards], shardCount, states: wireStates, replace },
    });
    if (o.$case !== 'open') RemoteWorker.fail(o, 'open', this.name);
    return o.value.shards;
  }

  async exportShards(jobId: string, shards: readonly number[]): Promise<Map<number, Record<string, Float64Array>>> {
    const o = await this.send(jobId, { $case: 'export', value: { shards: [...shards] } });
    if (o.$case !== 'exported') RemoteWorker.fail(o, 'exported', this.name);
    const want = new Set(shards);
    const out = new Map<number, Record<string, Float64Array>>();
    for (const [i, st] of o.value.states.entries()) {
      if (!want.has(st.shard) || out.has(st.shard))
        throw invalidArgument(`worker ${this.name}: exported.states[${i}]: shard ${st.shard} was not asked for (or came twice)`);
      const rec: Record<string, Float64Array> = {};
      for (const [j, slot] of st.slots.entries()) {
        if (slot.value === undefined) throw invalidArgument(`worker ${this.name}: exported.states[${i}].slots[${j}].value: missing`);
        // Own the memory: the decoded view aliases the message buffer.
        rec[slot.name] = decodeF64(
          slot.value,
          `worker ${this.name}: exported.states[${i}].slots[${j}].value`,
          LIMITS.tensorElements,
        ).slice();
      }
      out.set(st.shard, rec);
    }
    for (const s of shards) if (!out.has(s)) throw invalidArgument(`worker ${this.name}: exported no state for shard ${s}`);
    return out;
  }

  async release(jobId: string, shards: readonly number[]): Promise<number> {
    const o = await this.send(jobId, { $case: 'release', value: { shards: [...shards] } });
    if (o.$case !== 'released') RemoteWorker.fail(o, 'released', this.name);
    return o.value.remaining;
  }

  async round(
    jobId: string,
    op: Op,
    points: readonly Float64Array[],
    work: ReadonlyArray<{ shard: number; indices: Uint32Array | null }>,
    expectedLength: number,
  ): Promise<{ nodes: TreeNodeValue[]; bytesOut: number; bytesIn: number }> {
    let bytesOut = 0;
    for (const p of points) bytesOut += p.byteLength;
    for (const w of work) bytesOut += w.indices?.byteLength ?? 0;
    const o = await this.send(jobId, {
      $case: 'round',
      value: {
        round: 0,
        op,
        points: points.map((p) => f64Tensor(p)),
        shards: work.map((w) =>
          w.indices === null ? { shard: w.shard, indices: undefined } : { shard: w.shard, indices: u32Tensor(w.indices) },
        ),
      },
    });
    if (o.$case !== 'round') RemoteWorker.fail(o, 'round', this.name);
    const partials = o.value.partials;
    let bytesIn = 0;
    const nodes = partials.map((p, i) => {
      const value = decodeF64(p.value, `worker ${this.name}: result.partials[${i}].value`, Math.min(LIMITS.tensorElements, expectedLength));
      bytesIn += value.byteLength;
      // Decoded views alias the message buffer; reduction writes in place, so own the memory.
      return { lo: p.lo, hi: p.hi, value: value.slice() };
    });
    return { nodes, bytesOut, bytesIn };
  }

  async close(jobId: string): Promise<void> {
    if (this.lostError !== undefined) return;
    const o = await this.send(jobId, { $case: 'close', value: {} });
    if (o.$case !== 'closed') RemoteWorker.fail(o, 'closed', this.name);
  }
}
