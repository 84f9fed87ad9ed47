/** Op name -> task function. One module per op; this table is how both executors find them. */
import type { Op } from '@optfleet/proto';
import gradDiffTask from './grad-diff.js';
import lossGradTask from './loss-grad.js';
import type { TaskFn } from './protocol.js';

export const TASKS: Record<Op, TaskFn> = {
  'loss-grad': lossGradTask,
  'grad-diff': gradDiffTask,
};
