/**
 * Serves one task message with the ShardHost, whatever transport brought it: decodes and
 * validates the wire message (tensors included), runs it, and encodes the result. Every failure
 * becomes an error value with a code; this never throws.
 */
import {
  LIMITS,
  OP_POINTS,
  decodeF64,
  decodeU32,
  f64Tensor,
  invalidArgument,
  isOp,
  toOptfleetError,
  validateJobSpec,
  type TaskMessage,
  type TaskResultMessage,
} from '@optfleet/proto';
import type { ShardHost } from '../shard-host.js';

function fail(taskId: number, e: unknown): TaskResultMessage {
  const err = toOptfleetError(e);
  return { taskId, outcome: { $case: 'error', value: err.toWire() } };
}

/** Decodes a task into a host call and runs it. Every failure becomes an error value. */
export async function serveTask(host: ShardHost, task: TaskMessage): Promise<TaskResultMessage> {
  const kind = task.kind;
  try {
    if (kind === undefined) throw invalidArgument('task.kind: missing');
    switch (kind.$case) {
      case 'open': {
        let raw: unknown;
        try {
          raw = JSON.parse(kind.value.jobSpecJson);
        } catch {
          throw invalidArgument('task.open.jobSpecJson: not JSON');
        }
        const spec = validateJobSpec(raw);
        const states = new Map<number, Record<string, Float64Array>>();
        for (const [i, st] of kind.value.states.entries()) {
          if (states.has(st.shard)) throw invalidArgument(`task.open.states[${i}]: shard ${st.shard} listed twice`);
          const rec: Record<string, Float64Array> = {};
          for (const [j, slot] of st.slots.entries()) {
            if (slot.value === undefined) throw invalidArgument(`task.open.states[${i}].slots[${j}].value: missing`);
            rec[slot.name] = decodeF64(slot.value, `task.open.states[${i}].slots[${j}].value`, LIMITS.tensorElements);
          }
          states.set(st.shard, rec);
        }
        const summaries = await host.open(task.jobId, spec, kind.value.shards, kind.value.shardCount, states, kind.value.replace);
        return { taskId: task.taskId, outcome: { $case: 'open', value: { shards: summaries } } };
      }
      case 'round': {
        const r = kind.value;
        if (!isOp(r.op)) throw invalidArgument(`task.round.op: unknown op "${r.op}"`);
        if (r.points.length !== OP_POINTS[r.op])
          throw invalidArgument(`task.round.points: op ${r.op} takes ${OP_POINTS[r.op]} points, got ${r.points.length}`);
        const points = r.points.map((t, i) => decodeF64(t, `task.round.points[${i}]`, LIMITS.features));
        const work = r.shards.map((s, i) => ({
          shard: s.shard,
          indices: s.indices === undefined ? null : decodeU32(s.indices, `task.round.shards[${i}].indices`),
        }));
        const nodes = await host.round(task.jobId, { op: r.op, points, work });
        return {
          taskId: task.taskId,
          outcome: { $case: 'round', value: { partials: nodes.map((n) => ({ lo: n.lo, hi: n.hi, value: f64Tensor(n.value) })) } },
        };
      }
      case 'close':
        host.close(task.jobId);
        return { taskId: task.taskId, outcome: { $case: 'closed', value: {} } };
      case 'export': {
        const states = host.exportState(task.jobId, kind.value.shards);
        return {
          taskId: task.taskId,
          outcome: {
            $case: 'exported',
            value: {
              states: [...states].map(([shard, rec]) => ({
                shard,
                slots: Object.entries(rec).map(([name, v]) => ({ name, value: f64Tensor(v) })),
              })),
            },
          },
        };
      }
      case 'release':
        return { taskId: task.taskId, outcome: { $case: 'released', value: { remaining: host.release(task.jobId, kind.value.shards) } } };
    }
  } catch (e) {
    return fail(task.taskId, e);
  }
}
