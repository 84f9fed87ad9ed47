/**
 * Convergence plots: vega-lite specs rendered to SVG headless (vega's View.toSVG, no browser).
 * Several result files overlay as colored series, so runs can be compared by rounds, oracle
 * calls and seconds. Used by `optfleet plot`, `optfleet run --plot` and the bench figures.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { ERROR_CODES, OptfleetError, invalidArgument } from '@optfleet/proto';
import { tokenSpec } from './plot-tokens.js';

/** The part of a result document a plot needs (README "Result file"). */
export interface PlottableResult {
  readonly status?: string;
  readonly job?: { readonly name?: string };
  readonly history: ReadonlyArray<{
    readonly round: number;
    readonly oracleCalls: number;
    readonly seconds: number;
    readonly objective?: number;
    readonly gradNorm?: number;
    readonly residual?: number;
    /** graph-token: steps per token at a checkpoint, and the per-α MSE there. */
    readonly iteration?: number;
    readonly mse?: readonly number[];
  }>;
  /** graph-token: the α of each mse entry. */
  readonly final?: { readonly perAlpha?: ReadonlyArray<{ readonly alpha: number }> };
}

export interface Series {
  readonly label: string;
  readonly result: PlottableResult;
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Reads and checks a result file; errors name the file and what is missing. */
export async function loadResult(path: string): Promise<Series> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new OptfleetError(ERROR_CODES.NOT_FOUND, `result file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw invalidArgument(`${path}: not JSON (expected a result document written by --out)`);
  }
  const d = doc as Partial<PlottableResult> | null;
  if (d === null || typeof d !== 'object' || !Array.isArray(d.history))
    throw invalidArgument(`${path}: no "history" array (expected a result document written by --out)`);
  const rows = d.history.filter((h) => isNum(h?.round) && isNum(h?.oracleCalls) && isNum(h?.seconds));
  if (rows.length === 0) {
    throw invalidArgument(
      `${path}: the history is empty, nothing to plot${d.status !== undefined && d.status !== 'SUCCEEDED' ? ` (the job ended ${d.status})` : ''}`,
    );
  }
  return { label: d.job?.name ?? basename(path, '.json'), result: { ...d, history: rows } as PlottableResult };
}

/** The vega-lite spec: the stationarity measure vs rounds, oracle calls and seconds (log y), and the objective vs rounds. */
export function convergenceSpec(series: readonly Series[], title = 'optfleet convergence'): TopLevelSpec {
  // graph-token results have no objective: plot their per-α MSE against steps instead.
  if (series.length > 0 && series.every((s) => s.result.history.some((h) => Array.isArray(h.mse)))) {
    return tokenSpec(
      series.map((s) => ({ label: s.label, alphas: s.result.final?.perAlpha?.map((p) => p.alpha) ?? [], history: s.result.history })),
      title,
    );
  }
  const labels = new Map<string, number>();
  const values: Array<Record<string, number | string>> = [];
  let measure = 'gradNorm';
  if (series.some((s) => s.result.history.some((h) => isNum(h.residual)))) measure = 'residual';
  for (const s of series) {
    // Same name twice (two runs of one job): number them so the legend tells them apart.
    const n = (labels.get(s.label) ?? 0) + 1;
    labels.set(s.label, n);
    const label = n === 1 ? s.label : `${s.label} (${n})`;
    for (const h of s.result.history) {
      const y = measure === 'residual' ? h.residual : h.gradNorm;
      values.push({
        label,
        round: h.round,
        oracleCalls: h.oracleCalls,
        seconds: h.seconds,
        ...(isNum(y) && y > 0 ? { measure: y } : {}),
        ...(isNum(h.objective) ? { objective: h.objective } : {}),
      });
    }
  }
  const yTitle = measure === 'residual' ? 'residual ‖F(u)‖' : 'gradient norm ‖∇f‖';
  // Ticks and grid lines at powers of ten only (log axes otherwise draw every minor tick).
  const ys = values.map((v) => v['measure']).filter(isNum);
  const lo = Math.floor(Math.log10(Math.min(...ys)));
  const hi = Math.ceil(Math.log10(Math.max(...ys)));
  const stride = Math.max(1, Math.ceil((hi - lo) / 8));
  const powers: number[] = [];
  for (let e = lo; e <= hi; e += stride) powers.push(10 ** e);
  const xAxis = { labelExpr: "format(datum.value, '~s')" };
  const color = { field: 'label', type: 'nominal', title: 'run', legend: { orient: 'bottom', columns: 3 } } as const;
  const panel = (x: string, xTitle: string) =>
    ({
      width: 300,
      height: 200,
      mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5, clip: true },
      transform: [{ filter: 'isValid(datum.measure)' }],
      encoding: {
        x: { field: x, type: 'quantitative', title: xTitle, axis: xAxis },
        y: { field: 'measure', type: 'quantitative', title: yTitle, scale: { type: 'log' }, axis: { values: powers, format: '.0e' } },
        color,
      },
    }) as const;
  const objectivePanel = {
    width: 300,
    height: 200,
    mark: { type: 'line', point: { size: 18 }, strokeWidth: 1.5 },
    transform: [{ filter: 'isValid(datum.objective)' }],
    encoding: {
      x: { field: 'round', type: 'quantitative', title: 'rounds', axis: xAxis },
      y: { field: 'objective', type: 'quantitative', title: 'objective f', scale: { zero: false } },
      color,
    },
  } as const;
  // Panels with nothing to show are left out: operator problems have no objective, and
  // histories without timing (the bench's oracle-count runs) have no seconds.
  const panels: object[] = [panel('round', 'rounds'), panel('oracleCalls', 'oracle calls')];
  if (values.some((v) => isNum(v['seconds']) && (v['seconds'] as number) > 0)) panels.push(panel('seconds', 'seconds'));
  if (values.some((v) => isNum(v['objective']))) panels.push(objectivePanel);
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
    concat: panels,
  } as TopLevelSpec;
}

/** Renders any vega-lite spec to an SVG document, headless (the bench's figures use this too). */
export async function renderVegaLiteSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/** Renders the convergence figure of one or more runs as an SVG document. */
export async function renderConvergenceSvg(series: readonly Series[], title?: string): Promise<string> {
  if (series.length === 0) throw invalidArgument('plot: no result files given');
  return renderVegaLiteSvg(convergenceSpec(series, title));
}
