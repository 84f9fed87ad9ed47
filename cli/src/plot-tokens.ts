/**
 * Plots of graph-token (SA-SRRW) results: the per-α MSE ‖θ_n − θ*‖² the history records at each
 * checkpoint, against the steps n (log-log) and against seconds. One series per run and α.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface TokenHistory {
  readonly label: string;
  readonly alphas: readonly number[];
  readonly history: ReadonlyArray<{ readonly iteration?: number; readonly seconds: number; readonly mse?: readonly number[] }>;
}

export function tokenSpec(runs: readonly TokenHistory[], title: string): TopLevelSpec {
  const values: Array<Record<string, number | string>> = [];
  for (const r of runs) {
    for (const h of r.history) {
      if (h.mse === undefined || h.iteration === undefined) continue;
      h.mse.forEach((mse, k) => {
        if (Number.isFinite(mse) && mse > 0) {
          values.push({ series: `${r.label} α=${r.alphas[k] ?? k}`, n: h.iteration!, seconds: h.seconds, mse });
        }
      });
    }
  }
  const color = { field: 'series', type: 'nominal', title: 'run, α', legend: { orient: 'bottom', columns: 3 } } as const;
  const panel = (x: 'n' | 'seconds', xTitle: string, logX: boolean) => ({
    width: 320,
    height: 220,
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle, scale: logX ? { type: 'log' } : {} },
      y: { field: 'mse', type: 'quantitative', title: 'mean ‖θ_n − θ*‖²', scale: { type: 'log' }, axis: { format: '.0e' } },
      color,
    },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, fontSize: 15 },
    data: { values },
    config: {
      font: 'sans-serif',
      axis: { labelFontSize: 11, titleFontSize: 12, grid: true },
      view: { stroke: '#ddd' },
      legend: { labelLimit: 320 },
    },
    columns: 2,
    concat: [panel('n', 'steps n (per token)', true), panel('seconds', 'seconds', false)],
  } as TopLevelSpec;
}
