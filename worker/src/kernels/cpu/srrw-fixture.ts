/**
 * Test and bench fixture: a graph-token job's walk tables and shards built from a spec, and a
 * single-process runner that walks tokens to the end (the sequential reference of the token-walk
 * op: the same kernel, with every shard on one thread).
 */
import {
  TOKEN,
  TOKEN_PARAMS,
  WALK_CODES,
  buildGraph,
  tokenRecordLength,
  validateJobSpec,
  COORDINATOR_SHARD,
  KeyedRng,
  type JobSpec,
} from '@optfleet/proto';
import { walkJob, walkShardData, type WalkJob } from '../../shards/graph-token.js';
import type { ShardData } from '../../shards/shard-data.js';
import { walkScratch, walkToken, type WalkCounters, type WalkPeer } from './srrw-walk.js';

export interface WalkFixture {
  readonly spec: JobSpec;
  readonly job: WalkJob;
  readonly shards: ShardData[];
  readonly len: number;
  readonly tokens: number;
}

export async function walkFixture(input: unknown, shardCount: number): Promise<WalkFixture> {
  const spec = validateJobSpec(input);
  if (spec.problem.kind !== 'graph-token' || spec.algorithm.name !== 'sa-srrw')
    throw new Error('fixture needs a graph-token / sa-srrw spec');
  const g = await buildGraph(spec.problem, spec.seed);
  const job = walkJob(spec.problem, spec.algorithm, spec.seed, g, shardCount);
  const shards = Array.from({ length: shardCount }, (_, s) => walkShardData(job, s));
  return {
    spec,
    job,
    shards,
    len: tokenRecordLength(job.walk.d, job.walk.boundary),
    tokens: spec.algorithm.tokens * spec.algorithm.alpha.length,
  };
}

/** Token t's starting record and parameters, keyed exactly as the coordinator's driver keys them. */
export function startToken(f: WalkFixture, t: number): { rec: Float64Array; params: Float64Array } {
  const alg = f.spec.algorithm;
  if (alg.name !== 'sa-srrw') throw new Error('not sa-srrw');
  const rec = new Float64Array(f.len);
  rec[TOKEN.NODE] = new KeyedRng(f.spec.seed, t, COORDINATOR_SHARD, 'srrw-start').nextInt(f.job.walk.n);
  rec[TOKEN.PREV] = -1;
  rec.set(new KeyedRng(f.spec.seed, t, COORDINATOR_SHARD, 'srrw-walk').state(), TOKEN.RNG);
  const params = new Float64Array(TOKEN_PARAMS.HEADER + TOKEN_PARAMS.PER_TOKEN);
  params[TOKEN_PARAMS.HOP_CAP] = alg.hopsPerRound;
  params[TOKEN_PARAMS.WALK] = WALK_CODES[alg.walk];
  params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.ALPHA] = alg.alpha[Math.floor(t / alg.tokens)]!;
  params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.A] = alg.a;
  params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.B] = alg.b;
  params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.STEPS] = alg.steps;
  return { rec, params };
}

/**
 * Walks token t to its last step on this thread, handing it from worker to worker as the cluster
 * would: `workerOf` maps a shard to the pseudo-worker holding it (default: one worker holds all),
 * and a call to the kernel walks across every shard of the token's current worker.
 */
export function walkToEnd(
  f: WalkFixture,
  rec: Float64Array,
  params: Float64Array,
  hopCap = Number.MAX_SAFE_INTEGER,
  interior: Float64Array[] = f.shards.map((s) => new Float64Array(s.walk!.agents.interior)),
  counters: WalkCounters = { hops: 0, crossings: 0, handoffs: 0 },
  workerOf: (shard: number) => number = () => 0,
  token = 0,
): WalkCounters {
  const g = f.job.walk;
  const scratch = walkScratch(g);
  const steps = params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.STEPS]!;
  const walk = params[TOKEN_PARAMS.WALK]!;
  const peersOf = new Map<number, Array<WalkPeer | undefined>>();
  for (const [s, sh] of f.shards.entries()) {
    const w = workerOf(s);
    let list = peersOf.get(w);
    if (list === undefined) peersOf.set(w, (list = new Array<WalkPeer | undefined>(f.shards.length)));
    list[s] = { agents: sh.walk!.agents, interior: interior[s]! };
  }
  // Interior blocks are indexed by token: the caller's arrays hold block `token` (one token here).
  const pOff = TOKEN_PARAMS.HEADER;
  while (rec[TOKEN.N]! < steps) {
    const w = workerOf(g.shardOf[rec[TOKEN.NODE]!]!);
    walkToken(g, peersOf.get(w)!, rec, 0, params, pOff, walk, hopCap, token, scratch, counters);
  }
  return counters;
}
