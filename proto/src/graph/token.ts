/**
 * The token record of the `token-walk` op (spec §5 option B): one fixed-size Float64 slot per
 * token. A round's points[0] holds every token's record; each shard writes only the records of the
 * tokens it advanced and zeros elsewhere, so the summed result is their concatenation, exactly.
 *
 *   [n, node, prev, pending, rng a, rng b, rng c, rng d, log S, θ (d), r of boundary nodes (B)]
 *
 * r_j = log(y_j / μ_j) with x = y / S (spec §1.7 "store x unnormalised", in logs so no rescaling
 * of entries held elsewhere is ever needed). `pending` = 1: the token has moved to `node` but the
 * visit and θ updates of that step belong to the node's shard and are still to be applied.
 */
export const TOKEN = {
  N: 0,
  NODE: 1,
  PREV: 2,
  PENDING: 3,
  RNG: 4,
  LOG_S: 8,
  THETA: 9,
} as const;

export function tokenRecordLength(d: number, boundary: number): number {
  return TOKEN.THETA + d + boundary;
}

/** points[1]: a header, then per token [alpha, a, b, steps]. */
export const TOKEN_PARAMS = { HOP_CAP: 0, WALK: 1, HEADER: 2, ALPHA: 0, A: 1, B: 2, STEPS: 3, PER_TOKEN: 4 } as const;

/** Walk kinds as numbers on the wire (points[1] header). */
export const WALK_CODES = { mhrw: 0, srw: 1, nbrw: 2, iid: 3 } as const;

/** Counters appended to the token block: [hops, shard crossings, handoffs between workers]. */
export const TOKEN_TRAILER = 3;
