/** graph-token results plot their per-α MSE against steps (they have no objective or gradient norm). */
import { describe, expect, it } from 'vitest';
import { convergenceSpec, renderVegaLiteSvg } from './plot.js';

describe('graph-token plots', () => {
  it('one series per α, MSE against steps, rendered to SVG', async () => {
    const result = {
      job: { name: 'walk' },
      history: [
        { round: 1, oracleCalls: 20, seconds: 0.1, iteration: 10, mse: [0.5, 0.05] },
        { round: 2, oracleCalls: 26, seconds: 0.2, iteration: 13, mse: [0.4, 0.03] },
      ],
      final: { perAlpha: [{ alpha: 0 }, { alpha: 8 }] },
    };
    const spec = convergenceSpec([{ label: 'walk', result }]) as unknown as { data: { values: Array<Record<string, unknown>> } };
    expect(spec.data.values).toHaveLength(4);
    expect(spec.data.values.map((v) => v['series'])).toEqual(['walk α=0', 'walk α=8', 'walk α=0', 'walk α=8']);
    const svg = await renderVegaLiteSvg(spec as unknown as Parameters<typeof renderVegaLiteSvg>[0]);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('walk α=8');
    expect(svg).toContain('steps n (per token)');
  });
});
