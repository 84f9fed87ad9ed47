/**
 * What a pool thread receives and returns. Inputs are plain objects whose typed arrays are either
 * SharedArrayBuffer-backed (shard data: shared, not copied) or small (points, indices).
 */
import type { Op } from '@optfleet/proto';
import type { LossKind } from '../kernels/cpu/losses.js';
import type { ShardData } from '../shards/shard-data.js';
import type { OperatorData } from './operator.js';
import type { WalkPeer } from '../kernels/cpu/srrw-walk.js';
import type { MbboProblem } from '../shards/mbbo.js';

export interface TaskInput {
  readonly op: Op;
  readonly loss: LossKind;
  readonly shard: ShardData;
  readonly points: readonly Float64Array[];
  /** Local row indices, or null for every row of the shard. */
  readonly indices: Uint32Array | null;
  /**
   * The shard's sticky state (e.g. SAGA's table): SharedArrayBuffer-backed arrays the host
   * allocated before dispatch, so a task's writes land in place and stay for later rounds.
   */
  readonly state: Readonly<Record<string, Float64Array>>;
  /** Operator problems: what the kernels need besides the rows (null for minimisation problems). */
  readonly operator: OperatorData | null;
  /**
   * token-walk: every shard of the job this worker holds, by shard index (undefined elsewhere),
   * with its interior visit state, so a token can walk on across them within one round.
   */
  readonly walkPeers?: ReadonlyArray<WalkPeer | undefined>;
  /** Multi-block bilevel problems: the block layout and sizes (null otherwise). */
  readonly mbbo: MbboProblem | null;
}

/** An expected failure, returned as a value (class and code do not survive postMessage). */
export interface TaskFailure {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly retryable: boolean;
}

/** A task returns its result vector (transferred back) or a failure value. */
export type TaskOutput = Float64Array | TaskFailure;

export type TaskFn = (input: TaskInput) => TaskOutput;
