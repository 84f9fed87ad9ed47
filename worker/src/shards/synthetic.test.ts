import { describe, expect, it } from 'vitest';
import { shardRange } from '@optfleet/proto';
import { syntheticShard } from './synthetic.js';

describe('synthetic data', () => {
  it('row i is the same whatever the shard count (data depends on (seed, i) only)', () => {
    const o = { kind: 'logistic' as const, seed: 5, d: 4, noise: 0.1 };
    const whole = syntheticShard(o, 0, 0, 30);
    for (const S of [2, 3, 7]) {
      for (let s = 0; s < S; s++) {
        const [a, b] = shardRange(30, S, s);
        const part = syntheticShard(o, s, a, b);
        expect(part.firstRow).toBe(a);
        expect(Array.from(part.y)).toEqual(Array.from(whole.y.subarray(a, b)));
        const m = part.matrix;
        if (m.kind !== 'dense' || whole.matrix.kind !== 'dense') throw new Error('dense expected');
        expect(Array.from(m.x)).toEqual(Array.from(whole.matrix.x.subarray(a * 4, b * 4)));
      }
    }
  });

  it('stores rows in SharedArrayBuffers, labels are ±1 for logistic', () => {
    const s = syntheticShard({ kind: 'logistic', seed: 1, d: 3, noise: 0 }, 0, 0, 50);
    expect(s.y.buffer).toBeInstanceOf(SharedArrayBuffer);
    if (s.matrix.kind !== 'dense') throw new Error('dense expected');
    expect(s.matrix.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new Set(s.y)).toEqual(new Set([1, -1]));
  });

  it('different seeds give different data', () => {
    const a = syntheticShard({ kind: 'least-squares', seed: 1, d: 3, noise: 0.1 }, 0, 0, 5);
    const b = syntheticShard({ kind: 'least-squares', seed: 2, d: 3, noise: 0.1 }, 0, 0, 5);
    expect(Array.from(a.y)).not.toEqual(Array.from(b.y));
  });
});
