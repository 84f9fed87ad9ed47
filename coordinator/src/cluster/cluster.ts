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
  /** Worker name per shard. */
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

export interface Cluster {
  open(jobId: string, spec: JobSpec, shardCount: number): Promise<JobLayout>;
  round(req: RoundRequest): Promise<RoundResult>;
  close(): Promise<void>;
}

/**
 * A worker as the cluster sees it: in-process (a ShardHost called directly) or remote (a gRPC
 * stream). Calls reject with an OptfleetError (WORKER_LOST names the worker).
 */
export interface WorkerEndpoint {
  readonly id: string;
  readonly name: string;
  open(jobId: string, spec: JobSpec, shards: readonly number[], shardCount: number): Promise<ShardSummary[]>;
  round(
    jobId: string,
    op: Op,
    points: readonly Float64Array[],
    work: ReadonlyArray<{ shard: number; indices: Uint32Array | null }>,
    expectedLength: number,
  ): Promise<{ nodes: TreeNodeValue[]; bytesOut: number; bytesIn: number }>;
  close(jobId: string): Promise<void>;
}
