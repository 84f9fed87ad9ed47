/** The result document (README "Result file"): what `--out` writes and GetJob returns. */
import type { ErrorValue, JobSpec } from '@optfleet/proto';

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
  /** Multi-block bilevel: ‖z − ∇F(x)‖ (the STORM estimate against the exact hypergradient). */
  readonly estimatorError?: number;
  /** Multi-block bilevel: rms_i ‖y_i − y_i*(x)‖. */
  readonly yError?: number;
  /** Multi-block bilevel: rms_i ‖H_i − A_i(x)‖_F (v1) or rms_i ‖u_i − u_i*(x)‖ (v2, stoch-bilevel). */
  readonly trackerError?: number;
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
  };
  readonly final?: FinalState;
  readonly history: HistoryEntry[];
}
