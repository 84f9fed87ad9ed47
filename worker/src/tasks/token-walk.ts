/**
 * Op `token-walk` (graph-token jobs): advances every unfinished token sitting on this shard's
 * agents, hop after hop — across the other shards this worker holds too — until it hops onto a
 * shard held elsewhere, finishes its steps or reaches the per-round hop cap. Returns those
 * tokens' records (zeros for every other token, so the summed result is the concatenation)
 * followed by [hops, shard crossings, handoffs to other workers]. A token's bits never depend on
 * where the walk stops, so per-worker walking changes rounds, not results.
 */
import { TOKEN, TOKEN_PARAMS, TOKEN_TRAILER, WALK_CODES, tokenRecordLength } from '@optfleet/proto';
import { walkScratch, walkToken, type WalkCounters, type WalkPeer } from '../kernels/cpu/srrw-walk.js';
import type { TaskFailure, TaskInput, TaskOutput } from './protocol.js';
import { SRRW_INTERIOR } from './state.js';

function bad(message: string): TaskFailure {
  return { ok: false, code: 'INVALID_ARGUMENT', message, retryable: false };
}

export default function tokenWalkTask(input: TaskInput): TaskOutput {
  const walk = input.shard.walk;
  if (walk === undefined) return bad(`op token-walk runs on graph-token jobs only (shard ${input.shard.shard} holds rows)`);
  if (input.points.length !== 2) return bad(`op token-walk: ${input.points.length} points, needs 2 (token records, token parameters)`);
  const [records, params] = input.points as [Float64Array, Float64Array];
  const g = walk.graph;
  const sh = walk.agents;
  const len = tokenRecordLength(g.d, g.boundary);
  const tokens = (params.length - TOKEN_PARAMS.HEADER) / TOKEN_PARAMS.PER_TOKEN;
  if (!Number.isInteger(tokens) || tokens < 0) return bad(`round.points[1]: ${params.length} values is not a header plus 4 per token`);
  if (records.length !== tokens * len) {
    return bad(
      `round.points[0]: ${records.length} values, expected ${tokens} tokens × ${len} (θ of ${g.d}, ${g.boundary} boundary entries)`,
    );
  }
  const hopCap = params[TOKEN_PARAMS.HOP_CAP]!;
  const walkCode = params[TOKEN_PARAMS.WALK]!;
  if (!(hopCap >= 1) || !Object.values(WALK_CODES).includes(walkCode as 0)) return bad('round.points[1]: bad header (hop cap, walk)');
  const interiorR = input.state[SRRW_INTERIOR.name];
  if (interiorR === undefined || interiorR.length !== tokens * sh.interior) {
    return {
      ok: false,
      code: 'INTERNAL',
      message: `token-walk on shard ${sh.shard}: interior state not allocated for ${tokens} tokens`,
      retryable: false,
    };
  }
  // The other shards this worker holds: tokens keep walking across them within the round.
  const peers: Array<WalkPeer | undefined> = input.walkPeers === undefined ? [] : [...input.walkPeers];
  peers[sh.shard] = { agents: sh, interior: interiorR };
  for (const p of peers) {
    if (p !== undefined && p.interior.length !== tokens * p.agents.interior) {
      return {
        ok: false,
        code: 'INTERNAL',
        message: `token-walk: interior state of shard ${p.agents.shard} not allocated for ${tokens} tokens`,
        retryable: false,
      };
    }
  }
  const out = new Float64Array(records.length + TOKEN_TRAILER);
  const counters: WalkCounters = { hops: 0, crossings: 0, handoffs: 0 };
  const scratch = walkScratch(g);
  for (let t = 0; t < tokens; t++) {
    const off = t * len;
    const node = records[off + TOKEN.NODE]!;
    const pOff = TOKEN_PARAMS.HEADER + t * TOKEN_PARAMS.PER_TOKEN;
    if (!Number.isInteger(node) || node < 0 || node >= g.n)
      return bad(`round.points[0]: token ${t} is at node ${node}, outside [0, ${g.n})`);
    if (g.shardOf[node] !== sh.shard || records[off + TOKEN.N]! >= params[pOff + TOKEN_PARAMS.STEPS]!) continue;
    out.set(records.subarray(off, off + len), off);
    walkToken(g, peers, out, off, params, pOff, walkCode, hopCap, t, scratch, counters);
  }
  out[records.length] = counters.hops;
  out[records.length + 1] = counters.crossings;
  out[records.length + 2] = counters.handoffs;
  return out;
}
