/**
 * The module piscina loads in each pool thread: runs the op's task and transfers (never copies)
 * the result vector back to the event-loop thread.
 */
import { move } from 'piscina';
import { TASKS } from './tasks/index.js';
import type { TaskInput, TaskOutput } from './tasks/protocol.js';

export default function runInThread(input: TaskInput): TaskOutput {
  const out = TASKS[input.op](input);
  if (out instanceof Float64Array) return move(out) as unknown as Float64Array;
  return out;
}
