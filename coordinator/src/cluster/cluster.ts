/**
 * The sharded oracle (DESIGN §3). Drivers never see this file's implementations' transports: the
 * job runner opens a Cluster for a job, asks it for rounds, and closes it.
 */
import type { JobSpec, Op, TreeNodeValue } from '@optfleet/proto';

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

/** The job's shards once open: sizes, offsets and who holds what. */
export interface JobLayout {
  readonly shardCount: number;
  /** Total rows n. */
  readonly rows: number;
  /** Features d. */
  readonly cols: number;
  readonly nnz: number;
  /** max_i ‖x_i‖² over all rows. */
  readonly maxRowNormSq: number;
  /** Operator problems: max over shards of their component constant bound. */
  readonly lipschitz: number;
  /** Global index of each shard's first row; rowOffsets[shardCount] = rows. */
  readonly rowOffsets: readonly number[];
  /** Worker name per shard, at open (rebalances move shards later). */
  readonly owners: readonly string[];
  readonly bytes: number;
}

/** One round: an op at the given points on all rows, or on the listed global rows. */
export interface RoundRequest {
  readonly op: Op;
  readonly points: readonly Float64Array[];
  /** 'all', or global row indices (duplicates allowed: sampling with replacement). */
  readonly rows: 'all' | Uint32Array;
}

export interface RoundResult {
  /** Per-shard results summed over the fixed reduction tree, in shard order. */
  readonly sum: Float64Array;
  /** Bytes of tensors sent and received for this round (0 in-process). */
  readonly bytesOut: number;
  readonly bytesIn: number;
}

/** Shards moved between workers at a round boundary, because a worker joined or is leaving. */
export interface RebalanceEvent {
  /** Rounds run before this rebalance (it happened before round `round + 1`). */
  readonly round: number;
  /** Workers that joined / are draining since the last placement. */
  readonly joined: readonly string[];
  readonly left: readonly string[];
  readonly shardsMoved: number;
  /** Sticky-state bytes moved. */
  readonly stateBytes: number;
  readonly seconds: number;
  readonly workers: number;
}

export interface Cluster {
  /** Places and builds the shards; `states` restores their sticky state (a checkpoint). */
  open(
    jobId: string,
    spec: JobSpec,
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
  ): Promise<JobLayout>;
  /** Copies of every shard's sticky state, in shard order (for a checkpoint). */
  exportStates?(): Promise<Map<number, Record<string, Float64Array>>>;
  round(req: RoundRequest): Promise<RoundResult>;
  close(): Promise<void>;
  /** Rebalances so far (elastic clusters). */
  rebalances?(): readonly RebalanceEvent[];
}

/**
 * Which workers may hold a job's shards, read at every round boundary. A worker that joins shows
 * up in `eligible()`; one that is draining (SIGTERM) leaves it but stays reachable, so its shards
 * and their sticky state can still be taken from it.
 */
export interface Membership {
  /** Workers that may take shards now: live and not draining. */
  eligible(): readonly WorkerEndpoint[];
}

/** A fixed set of workers (in-process clusters, tests). */
export function staticMembership(workers: readonly WorkerEndpoint[]): Membership {
  return { eligible: () => workers };
}

/**
 * A worker as the cluster sees it: in-process (a ShardHost called directly) or remote (a gRPC
 * stream). Calls reject with an OptfleetError (WORKER_LOST names the worker).
 */
export interface WorkerEndpoint {
  readonly id: string;
  readonly name: string;
  /**
   * Builds the listed shards of a job (adding to those already held), with the sticky state
   * exported by their previous owner when they move in a rebalance.
   */
  open(
    jobId: string,
    spec: JobSpec,
    shards: readonly number[],
    shardCount: number,
    states?: ReadonlyMap<number, Readonly<Record<string, Float64Array>>>,
    /** Drop whatever the worker still holds of this job first (a resumed job). */
    replace?: boolean,
  ): Promise<ShardSummary[]>;
  /** Copies of the listed shards' sticky state (the shards stay held until release). */
  exportShards(jobId: string, shards: readonly number[]): Promise<Map<number, Record<string, Float64Array>>>;
  /** Drops the listed shards (their new owner holds them now); resolves with how many remain. */
  release(jobId: string, shards: readonly number[]): Promise<number>;
  round(
    jobId: string,
    op: Op,
    points: readonly Float64Array[],
    work: ReadonlyArray<{ shard: number; indices: Uint32Array | null }>,
    expectedLength: number,
  ): Promise<{ nodes: TreeNodeValue[]; bytesOut: number; bytesIn: number }>;
  close(jobId: string): Promise<void>;
}
