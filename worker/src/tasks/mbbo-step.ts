/**
 * Op `mbbo-step` (multi-block bilevel): one BSVRB / stoch-bilevel iteration on the listed blocks
 * of the shard, updating their sticky state in place; [Σ_i (G_i^new − (1−β)G_i^old), evaluations].
 */
import { mbboStep } from '../kernels/cpu/mbbo-step.js';
import type { TaskInput, TaskOutput } from './protocol.js';
import { checkInput } from './validate.js';

export default function mbboStepTask(input: TaskInput): TaskOutput {
  const bad = checkInput(input, 3);
  if (bad !== null) return bad;
  const p = input.mbbo!;
  const blocks = input.indices ?? Uint32Array.from({ length: input.shard.matrix.rows }, (_, i) => i);
  const out = new Float64Array(p.d + 1);
  const r = mbboStep(p, input.shard, input.state, input.points[0]!, input.points[1]!, input.points[2]!, blocks, out);
  if (typeof r !== 'number') return { ok: false, code: r.code, message: r.message, retryable: false };
  out[p.d] = r;
  return out;
}
