import { describe, expect, it } from 'vitest';
import { syntheticShard } from './shards/synthetic.js';
import { balance } from './pool.js';
import type { TaskInput } from './tasks/protocol.js';

describe('balance', () => {
  it('spreads work over at most k groups, heaviest first onto the lightest group, every item once', () => {
    const sizes = [100, 10, 50, 50, 10, 200];
    const items: TaskInput[] = sizes.map((n, s) => ({
      op: 'loss-grad',
      loss: 'logistic',
      shard: syntheticShard({ kind: 'logistic', seed: 1, d: 2, noise: 0 }, s, 0, n),
      points: [new Float64Array(2)],
      indices: null,
      state: {},
      operator: null,
      mbbo: null,
    }));
    const groups = balance(items, 3);
    expect(groups).toHaveLength(3);
    expect(groups.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(groups[0]).toEqual([5]);
    expect(balance(items.slice(0, 2), 8)).toHaveLength(2);
  });
});
