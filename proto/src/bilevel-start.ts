/**
 * The start x_0 of a multi-block bilevel job: the coordinator needs it and the tests rebuild it, so
 * it lives beside the spec. mbbo-quadratic: x0Scale·N(0, I) keyed by the data seed (spec §4(a):
 * x_0 = 2·N(0, I)); mbbo-ridge: 0 (every per-feature penalty starts at e⁰ = 1); mbbo-hyperclean: 0.
 */
import type { BilevelProblemSpec } from './job-spec.js';
import { COORDINATOR_SHARD, KeyedRng } from './rng.js';

export function bilevelStart(spec: BilevelProblemSpec, jobSeed: number): Float64Array {
  if (spec.kind === 'mbbo-ridge') return new Float64Array(spec.data.d);
  // Hyper-cleaning: every sample weight starts at sigmoid(0) = 1/2.
  if (spec.kind === 'mbbo-hyperclean') return new Float64Array(spec.data.nTrain);
  const rng = new KeyedRng(spec.data.seed ?? jobSeed, 0, COORDINATOR_SHARD, 'mbbo-x0');
  const x = new Float64Array(spec.data.d);
  for (let k = 0; k < x.length; k++) x[k] = spec.data.x0Scale * rng.nextNormal();
  return x;
}
