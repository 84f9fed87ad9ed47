/** Op name -> task function. One module per op; this table is how both executors find them. */
import type { Op } from '@optfleet/proto';
import gradDiffTask from './grad-diff.js';
import lossGradTask from './loss-grad.js';
import sagaInitTask from './saga-init.js';
import sagaStepTask from './saga-step.js';
import opEvalTask from './op-eval.js';
import opDiffTask from './op-diff.js';
import tokenWalkTask from './token-walk.js';
import mbboStepTask from './mbbo-step.js';
import mbboEvalTask from './mbbo-eval.js';
import type { TaskFn } from './protocol.js';

export const TASKS: Record<Op, TaskFn> = {
  'loss-grad': lossGradTask,
  'grad-diff': gradDiffTask,
  'saga-init': sagaInitTask,
  'saga-step': sagaStepTask,
  'op-eval': opEvalTask,
  'op-diff': opDiffTask,
  'token-walk': tokenWalkTask,
  'mbbo-step': mbboStepTask,
  'mbbo-eval': mbboEvalTask,
};
