/** The result document (README "Result file"): what `--out` writes and GetJob returns. */
import type { ErrorValue, JobSpec } from '@optfleet/proto';
import type { RebalanceEvent } from '../cluster/cluster.js';

export type JobStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface HistoryEntry {
  /** Rounds run so far (algorithm + evaluation). */
  readonly round: number;
  readonly iteration: number;
  readonly seconds: number;
  /** Algorithm oracle calls so far (component gradient / operator evaluations). */
  readonly oracleCalls: number;
  /** Minimization problems: f and ‖∇f‖. */
  readonly objective?: number;
  readonly gradNorm?: number;
  /** Operator problems: the residual (‖F(u)‖, or the natural residual with constraints). */
  readonly residual?: number;
  /** Games over simplices: the duality gap. */
  readonly gap?: number;
  /** Estimator drift ‖g̃ − ∇f‖ at a full snapshot, for methods that report it (PAGE). */
  readonly drift?: number;
  /** graph-token: mean ‖θ − θ*‖² over each α's tokens (in alpha order), at this point of the walk. */
  readonly mse?: number[];
  /** Multi-block bilevel: ‖z − ∇F(x)‖ (the STORM estimate against the exact hypergradient). */
  readonly estimatorError?: number;
  /** Multi-block bilevel: rms_i ‖y_i − y_i*(x)‖. */
  readonly yError?: number;
  /** Multi-block bilevel: rms_i ‖H_i − A_i(x)‖_F (v1) or rms_i ‖u_i − u_i*(x)‖ (v2, stoch-bilevel). */
  readonly trackerError?: number;
}

/** graph-token jobs: the score of one α over its tokens. */
export interface PerAlpha {
  readonly alpha: number;
  /** Mean over tokens of ‖θ_n − θ*‖² / betaTheta_n. */
  readonly scaledMse: number;
  /** Standard error of that mean (null with one token). */
  readonly stderr: number | null;
  /** tr V_θ(α) from the covariance theory (null where not computable). */
  readonly theory: number | null;
  readonly tokens: number;
}

export interface FinalState {
  readonly x: number[];
  /** Minimization problems: f and ‖∇f‖ at x. */
  readonly objective?: number;
  readonly gradNorm?: number;
  /** Operator problems: the residual (‖F(x)‖, or the natural residual with constraints). */
  readonly residual?: number;
  /** Games over simplices: the duality gap at x. */
  readonly gap?: number;
  /** Multi-block bilevel: exact estimator and tracking errors at x (see HistoryEntry). */
  readonly estimatorError?: number;
  readonly yError?: number;
  readonly trackerError?: number;
  /** Rounds run: algorithm + evaluation. */
  readonly rounds: number;
  /** Rounds spent only measuring (SGD's evaluations, the closing evaluation). */
  readonly evaluationRounds: number;
  /** Algorithm oracle calls: component gradients ∇ℓ_i the algorithm used. */
  readonly oracleCalls: number;
  /** Oracle calls spent only measuring. */
  readonly evaluationCalls: number;
  readonly iterations: number;
  readonly seconds: number;
  readonly stopReason: string;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** graph-token: per α, the scaled MSE over its tokens next to the theory value. */
  readonly perAlpha?: PerAlpha[];
  /** graph-token: θ* of (1/N) Σ F_i. */
  readonly thetaStar?: number[];
  /**
   * graph-token: token hops; hops onto another shard (a property of the trajectories, the same on
   * any placement); hops onto a shard of another worker (handoffs: what costs rounds and bytes);
   * and the visit entries each token carries.
   */
  readonly hops?: number;
  readonly crossings?: number;
  readonly handoffs?: number;
  /** graph-token: seconds spent walking (the rounds), without opening the shards or scoring. */
  readonly walkSeconds?: number;
  readonly boundary?: number;
}

/** A worker lost mid-job, survived by resuming on the remaining workers. */
export interface Recovery {
  /** Rounds run when the loss was noticed. */
  readonly lostAtRound: number;
  readonly error: string;
  /** The checkpoint's round it went on from (0: from the start). */
  readonly resumedFromRound: number;
  /** Workers it went on with. */
  readonly workers: number;
}

export interface JobResultDoc {
  readonly status: JobStatus;
  readonly error?: ErrorValue;
  /** `spec` is absent only for a submission rejected before it had a valid spec. */
  readonly job: { readonly id: string; readonly name: string; readonly spec?: JobSpec };
  readonly cluster: {
    readonly transport: string;
    readonly workers: number;
    readonly shards: number;
    readonly rows: number;
    readonly features: number;
    /** Workers joined or drained mid-job: each time shards moved at a round boundary. */
    readonly rebalances?: readonly RebalanceEvent[];
  };
  readonly final?: FinalState;
  readonly history: HistoryEntry[];
  /** Worker losses the job survived. */
  readonly recoveries?: readonly Recovery[];
  /** Set when a restarted coordinator resumed the job from a checkpoint taken at `round`. */
  readonly resumedFrom?: { readonly round: number; readonly savedAtMs: number };
}
