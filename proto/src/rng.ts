/**
 * Counter-based, keyed randomness. A stream is a pure function of (seed, round, shard, purpose):
 * the key is hashed into an sfc32 state, so any party (coordinator or any worker, on any thread)
 * draws the same numbers for the same key, and results never depend on placement or scheduling.
 * No Math.random anywhere in drivers or tasks.
 */

/** murmur3's 32-bit finalizer: a bijective avalanche mix. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a of a purpose label, so purposes are readable strings in code and distinct keys in the hash. */
export function purposeId(purpose: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < purpose.length; i++) {
    h ^= purpose.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Shard id used for draws made by the coordinator itself rather than for one shard. */
export const COORDINATOR_SHARD = 0xffffffff;

/** Largest accepted seed (seeds are non-negative safe integers). */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

const TWO_POW_32 = 4294967296;

/** A keyed random stream (sfc32 core). Not thread-safe by design: make one per (key, thread). */
export class KeyedRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  /**
   * @param seed non-negative safe integer
   * @param round iteration / round counter (non-negative safe integer)
   * @param shard shard index or COORDINATOR_SHARD
   * @param purpose a label such as 'minibatch' or 'synthetic-row'
   */
  constructor(seed: number, round: number, shard: number, purpose: string) {
    const seedLo = seed >>> 0;
    const seedHi = Math.floor(seed / TWO_POW_32) >>> 0;
    const roundLo = round >>> 0;
    const roundHi = Math.floor(round / TWO_POW_32) >>> 0;
    const p = purposeId(purpose);
    let h = fmix32(seedLo ^ 0x9e3779b9);
    h = fmix32(h ^ seedHi);
    h = fmix32(h ^ roundLo);
    h = fmix32(h ^ roundHi);
    h = fmix32(h ^ (shard >>> 0));
    h = fmix32(h ^ p);
    this.a = h;
    this.b = fmix32(h ^ 0x6a09e667);
    this.c = fmix32(h ^ 0xbb67ae85);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /**
   * The sfc32 state (a, b, c, d) as unsigned 32-bit integers, for kernels that carry a stream in a
   * Float64Array (a walking token) and step it inline with the same recurrence as nextU32.
   */
  state(): [number, number, number, number] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32, without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (n <= 1) return 0;
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    for (;;) {
      const u = this.nextU32();
      if (u < limit) return u % n;
    }
  }

  /** Standard normal (Box–Muller, pairs cached). */
  nextNormal(): number {
    if (!Number.isNaN(this.spare)) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
