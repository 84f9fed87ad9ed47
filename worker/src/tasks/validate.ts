import type { TaskFailure, TaskInput } from './protocol.js';
import { operatorDim } from './operator.js';

/** Checks what a task can check cheaply before touching data; a value, never a throw. */
export function checkInput(input: TaskInput, points: number): TaskFailure | null {
  const operatorOp = input.op === 'op-eval' || input.op === 'op-diff';
  if (input.operator !== null && !operatorOp) {
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: `op ${input.op} minimises a loss; this job is an operator problem (use op-eval / op-diff)`,
      retryable: false,
    };
  }
  // Operator problems store [G_i, h_i] per row; their iterate has 2m entries.
  const d = input.operator === null ? input.shard.matrix.cols : operatorDim(input.operator);
  if (input.points.length !== points) {
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: `op ${input.op}: ${input.points.length} points, needs ${points}`,
      retryable: false,
    };
  }
  for (const [i, p] of input.points.entries()) {
    if (p.length !== d) {
      return {
        ok: false,
        code: 'INVALID_ARGUMENT',
        message: `round.points[${i}]: ${p.length} values, the problem has dimension ${d}`,
        retryable: false,
      };
    }
  }
  const idx = input.indices;
  if (idx !== null) {
    const rows = input.shard.matrix.rows;
    for (let k = 0; k < idx.length; k++) {
      if (idx[k]! >= rows) {
        return {
          ok: false,
          code: 'INVALID_ARGUMENT',
          message: `round.shards[shard ${input.shard.shard}].indices[${k}]: row ${idx[k]} is past the shard's ${rows} rows`,
          retryable: false,
        };
      }
    }
  }
  return null;
}
