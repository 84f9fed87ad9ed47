/**
 * Op `mbbo-eval` (multi-block bilevel, read-only): exact per-block y_i*(x), u_i*(x), hypergradient
 * term, f_i(y_i*) and tracking errors; [Σ −∇²_xy g_i·u_i*, Σ f_i, Σ‖y_i − y_i*‖², Σ tracker², blocks].
 */
import { mbboEval } from '../kernels/cpu/mbbo-eval.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function mbboEvalTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 2);
  if (bad !== null) return bad;
  const p = input.mbbo!;
  const out = new Float64Array(p.d + 4);
  const err = mbboEval(p, input.shard, input.state, input.points[0]!, input.points[1]!, input.indices, out);
  if (err !== null) return { ok: false, code: 'DIVERGED', message: err, retryable: false };
  return out;
}
