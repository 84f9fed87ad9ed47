import { MAX_OP_PARAMS, MBBO_EVAL_PARAMS, MBBO_STEP_PARAMS, OP_PARAM_POINTS } from '@optfleet/proto';
import type { TaskFailure, TaskInput } from './protocol.js';
import { operatorDim } from './operator.js';

const fail = (message: string): TaskFailure => ({ ok: false, code: 'INVALID_ARGUMENT', message, retryable: false });

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
  const mbboOp = input.op === 'mbbo-step' || input.op === 'mbbo-eval';
  if ((input.mbbo !== null) !== mbboOp) {
    return fail(
      input.mbbo === null
        ? `op ${input.op} needs a multi-block bilevel problem (mbbo-quadratic, mbbo-ridge)`
        : `op ${input.op} does not apply to a multi-block bilevel problem (use mbbo-step / mbbo-eval)`,
    );
  }
  // Operator problems store [G_i, h_i] per row; their iterate has 2m entries. Bilevel rows are blocks; x has d entries.
  const d = input.mbbo !== null ? input.mbbo.d : input.operator === null ? input.shard.matrix.cols : operatorDim(input.operator);
  const params = OP_PARAM_POINTS[input.op];
  const paramLength = input.op === 'mbbo-step' ? MBBO_STEP_PARAMS.length : input.op === 'mbbo-eval' ? MBBO_EVAL_PARAMS.length : 0;
  if (input.points.length !== points) {
    return {
      ok: false,
      code: 'INVALID_ARGUMENT',
      message: `op ${input.op}: ${input.points.length} points, needs ${points}`,
      retryable: false,
    };
  }
  for (const [i, p] of input.points.entries()) {
    if (i >= input.points.length - params) {
      if (p.length !== paramLength || p.length > MAX_OP_PARAMS) {
        return fail(`round.points[${i}]: ${p.length} parameters, op ${input.op} takes ${paramLength}`);
      }
      continue;
    }
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
