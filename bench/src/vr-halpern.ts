/**
 * `npm run bench -- vr-halpern`: the √n claim of Cai, Alacaoglu & Diakonikolas (ICLR 2024),
 * measured as spec §6(a) prescribes. On the cocoercive bilinear game A1 (m = 10, μ = 0.1, σ = 1,
 * so L_F = (μ² + ‖B‖²)/μ = 10.1 whatever n) sweep n, and for each method count the oracle calls
 * to first reach residual ≤ 1e-2·r₀ and ≤ 1e-3·r₀; ΔN = N(1e-3) − N(1e-2) cancels the warm-up.
 *
 * Methods: VR-Halpern Algorithm 1 (η = 1/L_avg, b = ⌈√n⌉), (a) the same iteration with full
 * batches (p_k ≡ 1, η = 1/L_F: isolates variance reduction), (b) optimal deterministic Halpern
 * (η = 2/L_F), and EAG (η = 1/(4L_F)) — the drivers optfleet ships, stepped here against an
 * in-memory oracle. A full pass is computed as Mu + q (identical to summing the n components up
 * to rounding, see bilinear.test.ts) and charged n calls; a difference step evaluates its b
 * sampled components with the worker kernel and is charged 2b. The residual ‖Mu + q‖ after every
 * iteration is the harness's measurement and is not charged.
 *
 * Reports R(n) = ΔN_baseline / ΔN_VR, the fitted log-log slope of R(b) against n (theory: 0.5)
 * and the crossover n where VR-Halpern starts to beat optimal Halpern. Then the wall-clock side:
 * the same VR-Halpern and Halpern runs as jobs, in-process and on 2 gRPC worker processes.
 */
import { renderVegaLiteSvg, runEmbedded } from '@optfleet/cli';
import { EagDriver, HalpernDriver, VrHalpernDriver, type Driver, type ProblemInfo } from '@optfleet/coordinator';
import { validateJobSpec } from '@optfleet/proto';
import { bilinearApply, bilinearConstants, bilinearShard, type BilinearGame } from '@optfleet/worker';
import { fixed, renderTable } from './table.js';

export interface SweepConfig {
  readonly ns: readonly number[];
  readonly seeds: readonly number[];
  readonly m: number;
  readonly mu: number;
  readonly sigma: number;
  /** Iteration cap per run (a run that misses 1e-3 is reported as such). */
  readonly maxIterations: number;
}

export const SWEEP: SweepConfig = { ns: [256, 1024, 4096, 16384], seeds: [1, 2, 3], m: 10, mu: 0.1, sigma: 1, maxIterations: 400_000 };

interface Game {
  readonly g: BilinearGame;
  readonly n: number;
  readonly rows: ReturnType<typeof bilinearShard>;
  /** Mean matrix M (2m×2m row-major). */
  readonly M: Float64Array;
  readonly lF: number;
  readonly lAvg: number;
}

function build(seed: number, n: number, c: SweepConfig): Game {
  const g = bilinearConstants(seed, c.m, c.mu, c.sigma);
  const rows = bilinearShard(g, seed, n, 0, 0, n);
  const m = c.m;
  const d = 2 * m;
  const M = new Float64Array(d * d);
  for (let a = 0; a < m; a++) {
    M[a * d + a] = c.mu;
    M[(m + a) * d + m + a] = c.mu;
    for (let b = 0; b < m; b++) {
      M[a * d + m + b] = g.B[a * m + b]!;
      M[(m + b) * d + a] = -g.B[a * m + b]!;
    }
  }
  // L_avg = λ_max(mean_i M_iᵀM_i)/μ (power iteration on the averaged normal matrix).
  const N = new Float64Array(d * d);
  const X = rows.matrix.kind === 'dense' ? rows.matrix.x : new Float64Array(0);
  const w = m * m + 2 * m;
  const Mi = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    Mi.set(M);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) {
        const dev = c.sigma * X[i * w + a * m + b]!;
        Mi[a * d + m + b] = Mi[a * d + m + b]! + dev;
        Mi[(m + b) * d + a] = Mi[(m + b) * d + a]! - dev;
      }
    }
    for (let r = 0; r < d; r++)
      for (let k = 0; k < d; k++) for (let t = 0; t < d; t++) N[r * d + k] = N[r * d + k]! + (Mi[t * d + r]! * Mi[t * d + k]!) / n;
  }
  let v = new Float64Array(d).fill(1 / Math.sqrt(d));
  let lam = 0;
  for (let it = 0; it < 500; it++) {
    const nv = new Float64Array(d);
    for (let r = 0; r < d; r++) for (let k = 0; k < d; k++) nv[r] = nv[r]! + N[r * d + k]! * v[k]!;
    lam = Math.hypot(...nv);
    v = nv.map((x) => x / lam);
  }
  return { g, n, rows, M, lF: (c.mu * c.mu + 1) / c.mu, lAvg: lam / c.mu };
}

function meanF(game: Game, u: Float64Array): Float64Array {
  const d = u.length;
  const F = new Float64Array(d);
  for (let r = 0; r < d; r++) {
    let s = game.g.q[r]!;
    for (let k = 0; k < d; k++) s += game.M[r * d + k]! * u[k]!;
    F[r] = s;
  }
  return F;
}

export interface RunTrace {
  /** Oracle calls at first residual ≤ 1e-2·r₀ and ≤ 1e-3·r₀ (NaN if not reached). */
  readonly n2: number;
  readonly n3: number;
  readonly iterations: number;
  /** (calls, residual) samples for the figure. */
  readonly samples: Array<[number, number]>;
}

/** Steps a driver against the in-memory oracle until the residual reaches 1e-3·r₀. */
function trace(driver: Driver, game: Game, maxIterations: number): RunTrace {
  const d = 2 * game.g.m;
  const r0 = Math.hypot(...meanF(game, driver.iterate()));
  let calls = 0;
  let n2 = NaN;
  let n3 = NaN;
  const samples: Array<[number, number]> = [[0, r0]];
  let nextSample = 1;
  const dense = game.rows.matrix.kind === 'dense' ? game.rows.matrix : undefined;
  if (dense === undefined) throw new Error('dense rows expected');
  let it = 0;
  let lastIter = driver.iterations();
  while (it < maxIterations * 2) {
    const ask = driver.ask();
    if (ask.kind !== 'round') break;
    let sum: Float64Array;
    if (ask.rows === 'all') {
      const F = meanF(game, ask.points[0]!);
      sum = new Float64Array(d + 1);
      for (let j = 0; j < d; j++) sum[j] = F[j]! * game.n;
      sum[d] = game.n;
      calls += game.n;
    } else {
      sum = new Float64Array(d + 1);
      const delta = ask.points[0]!.map((x, j) => x - ask.points[1]![j]!);
      bilinearApply(game.g, dense, delta, ask.rows, false, sum);
      calls += 2 * ask.rows.length;
    }
    driver.tell(sum);
    it++;
    if (driver.iterations() === lastIter) continue; // EAG/EG: mid-iteration
    lastIter = driver.iterations();
    const r = Math.hypot(...meanF(game, driver.iterate()));
    if (!Number.isFinite(r)) break;
    if (Number.isNaN(n2) && r <= 1e-2 * r0) n2 = calls;
    if (r <= 1e-3 * r0) {
      n3 = calls;
      samples.push([calls, r]);
      break;
    }
    if (calls >= nextSample) {
      samples.push([calls, r]);
      nextSample = Math.ceil(nextSample * 1.15) + game.n;
    }
    if (driver.iterations() >= maxIterations) break;
  }
  return { n2, n3, iterations: driver.iterations(), samples };
}

const METHODS = ['vr-halpern', 'same-form full batch (a)', 'optimal Halpern (b)', 'EAG'] as const;
type Method = (typeof METHODS)[number];

function makeDriver(method: Method, game: Game, seed: number): Driver {
  const p: ProblemInfo = { kind: 'bilinear-game', family: 'operator', n: game.n, d: 2 * game.g.m, l2: 0, lMax: game.lAvg, seed };
  switch (method) {
    case 'vr-halpern':
      return new VrHalpernDriver(p, { stepSize: 1 / game.lAvg, fullBatch: false });
    case 'same-form full batch (a)':
      return new VrHalpernDriver(p, { stepSize: 1 / game.lF, fullBatch: true });
    case 'optimal Halpern (b)':
      return new HalpernDriver(p, { stepSize: 2 / game.lF });
    case 'EAG':
      return new EagDriver(p, { stepSize: 1 / (4 * game.lF) });
  }
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Least-squares slope of log y against log x. */
export function logLogSlope(xs: readonly number[], ys: readonly number[]): number {
  const pts = xs.map((x, i) => [Math.log(x), Math.log(ys[i]!)] as const).filter(([, y]) => Number.isFinite(y));
  const mx = pts.reduce((s, [x]) => s + x, 0) / pts.length;
  const my = pts.reduce((s, [, y]) => s + y, 0) / pts.length;
  const num = pts.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = pts.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return num / den;
}

/** First n where the ratio crosses 1, interpolated log-linearly between grid points (NaN if never). */
export function crossover(ns: readonly number[], ratios: readonly number[]): number {
  for (let i = 0; i < ns.length; i++) {
    if (ratios[i]! >= 1) {
      if (i === 0) return ns[0]!;
      const [x0, x1] = [Math.log(ns[i - 1]!), Math.log(ns[i]!)];
      const [y0, y1] = [Math.log(ratios[i - 1]!), Math.log(ratios[i]!)];
      return Math.exp(x0 + ((0 - y0) * (x1 - x0)) / (y1 - y0));
    }
  }
  return NaN;
}

export interface VrHalpernBench {
  readonly table: string;
  readonly json: Record<string, unknown>;
  readonly figures: Record<string, string>;
}

export async function runVrHalpernBench(c: SweepConfig, log: (m: string) => void): Promise<VrHalpernBench> {
  const rows: Array<Record<string, number>> = [];
  const firstTraces: Record<string, RunTrace> = {};
  for (const n of c.ns) {
    const per: Record<Method, number[]> = { 'vr-halpern': [], 'same-form full batch (a)': [], 'optimal Halpern (b)': [], EAG: [] };
    const perIter: Record<Method, number[]> = { 'vr-halpern': [], 'same-form full batch (a)': [], 'optimal Halpern (b)': [], EAG: [] };
    let lAvg = 0;
    for (const seed of c.seeds) {
      const game = build(seed, n, c);
      lAvg = game.lAvg;
      for (const method of METHODS) {
        const t = trace(makeDriver(method, game, seed), game, c.maxIterations);
        per[method].push(t.n3 - t.n2);
        perIter[method].push(t.iterations);
        if (n === c.ns[c.ns.length - 1] && seed === c.seeds[0]) firstTraces[method] = t;
        log(`vr-halpern bench: n=${n} seed=${seed} ${method}: ΔN=${t.n3 - t.n2} (${t.iterations} iterations)`);
      }
    }
    const dVr = median(per['vr-halpern']);
    rows.push({
      n,
      lAvg,
      dVr,
      dSameForm: median(per['same-form full batch (a)']),
      dHalpern: median(per['optimal Halpern (b)']),
      dEag: median(per.EAG),
      ratioA: median(per['same-form full batch (a)']) / dVr,
      ratioB: median(per['optimal Halpern (b)']) / dVr,
      ratioEag: median(per.EAG) / dVr,
      vrPerSqrtN: dVr / Math.sqrt(n),
      itVr: median(perIter['vr-halpern']),
      itHalpern: median(perIter['optimal Halpern (b)']),
    });
  }
  const ns = rows.map((r) => r['n']!);
  const slope = logLogSlope(
    ns,
    rows.map((r) => r['ratioB']!),
  );
  const slopeA = logLogSlope(
    ns,
    rows.map((r) => r['ratioA']!),
  );
  const last = rows.length - 1;
  const localSlope = last >= 1 ? Math.log(rows[last]!['ratioB']! / rows[last - 1]!['ratioB']!) / Math.log(ns[last]! / ns[last - 1]!) : NaN;
  const crossoverN = crossover(
    ns,
    rows.map((r) => r['ratioB']!),
  );

  const table = renderTable(
    `VR-Halpern (Alg 1) vs deterministic baselines on the bilinear game (m=${c.m}, μ=${c.mu}, σ=${c.sigma}, L_F=${fixed((c.mu * c.mu + 1) / c.mu, 1)}), ΔN = calls from 1e-2 to 1e-3 relative residual, median of ${c.seeds.length} seeds`,
    [
      'n',
      'L_avg',
      'ΔN VR',
      'ΔN (a) full batch',
      'ΔN (b) Halpern',
      'ΔN EAG',
      'R(a)',
      'R(b)',
      'R(EAG)',
      'ΔN_VR/√n',
      'iters VR',
      'iters (b)',
    ].map((header) => ({ header })),
    rows.map((r) => [
      String(r['n']),
      fixed(r['lAvg']!, 1),
      String(r['dVr']),
      String(r['dSameForm']),
      String(r['dHalpern']),
      String(r['dEag']),
      fixed(r['ratioA']!, 2),
      fixed(r['ratioB']!, 2),
      fixed(r['ratioEag']!, 2),
      fixed(r['vrPerSqrtN']!, 0),
      String(r['itVr']),
      String(r['itHalpern']),
    ]),
  );
  const summaryLine = `fitted log-log slope of R(b) vs n: ${fixed(slope, 3)} (theory 0.5; spec prototype 0.43); local slope ${ns[last - 1]}→${ns[last]}: ${fixed(localSlope, 3)}; slope of R(a): ${fixed(slopeA, 3)}; crossover n (R(b) = 1): ${Number.isFinite(crossoverN) ? Math.round(crossoverN) : 'not reached'}`;

  // Wall-clock side: the same methods as jobs, in-process and on 2 gRPC worker processes.
  const wallN = 4096;
  const wallGame = build(c.seeds[0]!, wallN, c);
  const r0 = Math.hypot(...meanF(wallGame, new Float64Array(2 * c.m)));
  const wall: Array<Record<string, string | number>> = [];
  for (const [label, algorithm] of [
    ['vr-halpern', { name: 'vr-halpern', stepSize: 1 / wallGame.lAvg }],
    ['optimal Halpern (b)', { name: 'halpern', stepSize: 2 / wallGame.lF }],
  ] as const) {
    for (const [transport, workers] of [
      ['inprocess', 1],
      ['grpc', 2],
    ] as const) {
      log(`vr-halpern bench: wall clock ${label} ${transport}`);
      const spec = validateJobSpec({
        name: `wall-${algorithm.name}`,
        seed: c.seeds[0],
        shards: 8,
        problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: wallN, m: c.m, mu: c.mu, sigma: c.sigma } },
        algorithm,
        stop: { residual: 1e-2 * r0, maxRounds: 2_000_000, maxSeconds: 300 },
      });
      const doc = await runEmbedded({ spec, transport, workers, workerStderr: 'ignore' });
      wall.push({
        method: label,
        transport: `${transport}${transport === 'grpc' ? ' 2 workers' : ''}`,
        status: doc.status,
        rounds: doc.final?.rounds ?? NaN,
        oracleCalls: doc.final?.oracleCalls ?? NaN,
        seconds: doc.final?.seconds ?? NaN,
        residual: doc.final?.residual ?? NaN,
      });
    }
  }
  const wallTable = renderTable(
    `Wall clock: the same methods as optfleet jobs, n=${wallN}, to residual ≤ 1e-2·r₀ (full passes summed by the workers here)`,
    ['method', 'transport', 'rounds', 'oracle calls', 'seconds', 'rounds/s'].map((header) => ({ header })),
    wall.map((w) => [
      String(w['method']),
      String(w['transport']),
      String(w['rounds']),
      String(w['oracleCalls']),
      fixed(Number(w['seconds']), 2),
      fixed(Number(w['rounds']) / Number(w['seconds']), 0),
    ]),
  );

  const ratioFigure = await renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'VR-Halpern: oracle-call ratio R(n) = ΔN_baseline / ΔN_VR',
    width: 420,
    height: 280,
    data: {
      values: rows.flatMap((r) => [
        { n: r['n'], ratio: r['ratioB'], baseline: '(b) optimal Halpern' },
        { n: r['n'], ratio: r['ratioA'], baseline: '(a) same form, full batch' },
        { n: r['n'], ratio: r['ratioEag'], baseline: 'EAG' },
        { n: r['n'], ratio: (rows[0]!['ratioB']! * Math.sqrt(r['n']!)) / Math.sqrt(rows[0]!['n']!), baseline: '√n reference' },
      ]),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'n (components)' },
      y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'R(n)' },
      color: { field: 'baseline', type: 'nominal', legend: { orient: 'bottom', labelLimit: 320 } },
      strokeDash: { condition: { test: "datum.baseline === '√n reference'", value: [4, 4] }, value: [1, 0] },
    },
  } as Parameters<typeof renderVegaLiteSvg>[0]);
  const convFigure = await renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `bilinear game n=${ns[last]}: residual vs oracle calls (seed ${c.seeds[0]})`,
    width: 460,
    height: 300,
    data: {
      values: METHODS.flatMap((mth) =>
        (firstTraces[mth]?.samples ?? []).filter(([calls]) => calls > 0).map(([calls, r]) => ({ method: mth, calls, residual: r })),
      ),
    },
    mark: { type: 'line', strokeWidth: 1.5 },
    encoding: {
      x: { field: 'calls', type: 'quantitative', scale: { type: 'log' }, title: 'oracle calls', axis: { format: '.0e' } },
      y: { field: 'residual', type: 'quantitative', scale: { type: 'log' }, title: 'residual ‖F(u)‖', axis: { format: '.0e' } },
      color: { field: 'method', type: 'nominal', legend: { orient: 'bottom', labelLimit: 320 } },
    },
  } as Parameters<typeof renderVegaLiteSvg>[0]);
  return {
    table: `${table}\n${summaryLine}\n\n${wallTable}`,
    json: { summary: { slope, localSlope, slopeSameForm: slopeA, crossoverN }, config: c, sweep: rows, wallClock: wall },
    figures: { 'vr-halpern-ratio.svg': ratioFigure, 'vr-halpern-convergence.svg': convFigure },
  };
}
