/**
 * Builds a graph-token job's walk tables and its shards' agent data on a worker, from (spec,
 * shard, shard count) alone: the graph (seeded or read), the base chain, the locality-aware
 * partition and the agents' losses are all deterministic, so every worker derives the same tables.
 */
import {
  agentData,
  agentRows,
  agentTruth,
  baseChain,
  partitionGraph,
  thetaDim,
  validateChain,
  visitLayout,
  type AgentLossSpec,
  type Graph,
  type GraphTokenSpec,
  type SaSrrwSpec,
} from '@optfleet/proto';
import type { WalkGraph, WalkShard } from '../kernels/cpu/srrw-walk.js';
import { sharedF64, sharedI32, type ShardData } from './shard-data.js';

function toSharedI32(a: Int32Array): Int32Array {
  const s = sharedI32(a.length);
  s.set(a);
  return s;
}

function toSharedF64(a: Float64Array): Float64Array {
  const s = sharedF64(a.length);
  s.set(a);
  return s;
}

export interface WalkJob {
  readonly graph: Graph;
  readonly walk: WalkGraph;
  readonly losses: AgentLossSpec;
  readonly interior: Int32Array;
  readonly size: Int32Array;
}

export function lossSpecOf(problem: GraphTokenSpec, seed: number): AgentLossSpec {
  return {
    loss: problem.loss,
    seed: problem.dataSeed ?? seed,
    g12: problem.graph.source === 'g12',
    points: problem.points,
    features: problem.features,
  };
}

/** The job-wide walk tables (shared by every shard this worker holds). Refuses periodic chains. */
export function walkJob(problem: GraphTokenSpec, alg: SaSrrwSpec, seed: number, g: Graph, shardCount: number): WalkJob {
  const chain = baseChain(g, alg.walk);
  validateChain(g, chain, alg.walk, alg.alpha);
  const shardOf = partitionGraph(g, shardCount);
  const v = visitLayout(g, shardOf, shardCount, problem.visits);
  const losses = lossSpecOf(problem, seed);
  const walk: WalkGraph = {
    n: g.n,
    rowPtr: toSharedI32(chain.rowPtr),
    col: toSharedI32(chain.col),
    prob: toSharedF64(chain.prob),
    lmu: toSharedF64(Float64Array.from(chain.mu, Math.log)),
    weight: toSharedF64(chain.weight),
    shardOf: toSharedI32(shardOf),
    slot: toSharedI32(v.slot),
    local: toSharedI32(v.local),
    boundary: v.boundary,
    d: thetaDim(losses),
    loss: losses.loss,
    rowsPerAgent: agentRows(losses),
    kappa: problem.loss === 'logistic' ? problem.l2 : 0,
  };
  return { graph: g, walk, losses, interior: v.interior, size: v.size };
}

/** Shard s: its agents' data rows (ascending node id) in shared memory. */
export function walkShardData(job: WalkJob, s: number): ShardData {
  const { walk, losses, graph } = job;
  const agents = job.size[s]!;
  const rpa = walk.rowsPerAgent;
  const d = walk.d;
  const x = sharedF64(agents * rpa * d);
  const y = sharedF64(agents * rpa);
  const truth = agentTruth(losses);
  const rowX = new Float64Array(rpa * d);
  const rowY = new Float64Array(rpa);
  for (let i = 0; i < graph.n; i++) {
    if (walk.shardOf[i] !== s) continue;
    const li = walk.local[i]!;
    agentData(losses, graph, i, truth, rowX, rowY);
    x.set(rowX, li * rpa * d);
    y.set(rowY, li * rpa);
  }
  const agentsShard: WalkShard = { shard: s, x, y, interior: job.interior[s]! };
  return {
    shard: s,
    firstRow: 0,
    matrix: { kind: 'dense', rows: agents * rpa, cols: d, x },
    y,
    walk: { graph: walk, agents: agentsShard },
  };
}
