/**
 * `npm run bench -- srrw`: the SA-SRRW claim (Hu, Doshi & Eun, ICLR 2024) on spec §4(b)'s random
 * geometric graph (N = 500, logistic shards B = 20, d = 10, κ = 1, uniform μ, MHRW base chain),
 * betaTheta = 1/(n+1), gammaX = (n+1)^(−0.6): case (i), where V_θ(α) = O(1/α²).
 *
 *  (a) scaled MSE ‖θ_n − θ*‖²/betaTheta_n at n = STEPS against α ∈ {0, 1, 2, 5, 10, 20}, next to
 *      the theory tr V_θ(α); baselines SRW and NBRW (1/deg weights) and i.i.d. agent sampling;
 *  (b) MSE against n (log-log) for MHRW, i.i.d. and SRRW, from checkpoints of the same tokens;
 *  (c) shard-crossing and worker-handoff rates and hops per second of a job in-process and on 2
 *      gRPC workers (a worker walks tokens across all the shards it holds within a round);
 *  (d) hops per second as the number of concurrent tokens grows, in-process and on 2 gRPC workers;
 *  (e) longer walks (n = 10⁶) for large α: does the finite-n saturation of (a) lift toward theory?
 * (a) and (b) walk the tokens with the worker kernel on this thread (one shard: the trajectories
 * are bit-identical to a sharded run, see the tests); (c) and (d) run real optfleet jobs.
 */
import { renderVegaLiteSvg, runEmbedded } from '@optfleet/cli';
import { SrrwTheory, densePattern, graphObjective } from '@optfleet/coordinator';
import { TOKEN, TOKEN_PARAMS, baseChain, buildGraph, validateJobSpec, type JobSpec } from '@optfleet/proto';
import { startToken, walkFixture, walkToEnd } from '@optfleet/worker';
import { fixed, renderTable } from './table.js';
import { nowMs } from './stats.js';

export const SRRW_BENCH = {
  nodes: 500,
  seed: 3,
  a: 0.6,
  b: 1,
  alphas: [0, 1, 2, 5, 10, 20],
  tokens: 16,
  steps: 100_000,
  checkpoints: [100, 300, 1000, 3000, 10_000, 30_000, 100_000],
  /** (c): per-job steps and tokens; (d): token counts. */
  jobSteps: 10_000,
  jobTokens: 16,
  jobAlpha: 10,
  concurrency: [1, 4, 16, 64],
  concurrencySteps: 4000,
  longAlphas: [5, 20],
  longTokens: 8,
  longCheckpoints: [100_000, 300_000, 1_000_000],
} as const;

type Walk = 'mhrw' | 'srw' | 'nbrw' | 'iid';

function specFor(walk: Walk, alpha: number[], tokens: number, steps: number, shards?: number): JobSpec {
  return validateJobSpec({
    name: `srrw-${walk}`,
    seed: SRRW_BENCH.seed,
    ...(shards === undefined ? {} : { shards }),
    problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: SRRW_BENCH.nodes }, loss: 'logistic', points: 20, features: 10, l2: 1 },
    algorithm: { name: 'sa-srrw', alpha, a: SRRW_BENCH.a, b: SRRW_BENCH.b, tokens, steps, walk },
  });
}

interface Curve {
  readonly label: string;
  readonly walk: Walk;
  readonly alpha: number;
  /** Per checkpoint: mean ‖θ_n − θ*‖² and mean scaled MSE, with the standard error of the latter. */
  readonly mse: number[];
  readonly scaled: number[];
  readonly scaledStderr: number[];
  readonly theory: number | null;
  readonly stepsPerSecond: number;
}

interface CurveSet {
  readonly runs: ReadonlyArray<readonly [string, Walk, number]>;
  readonly tokens: number;
  readonly checkpoints: readonly number[];
}

async function curves(log: (s: string) => void, set: CurveSet): Promise<{ curves: Curve[]; thetaStarGrad: number; edges: number }> {
  const c = { ...SRRW_BENCH, tokens: set.tokens, checkpoints: set.checkpoints, steps: set.checkpoints.at(-1)! };
  const base = specFor('mhrw', [0], 1, c.steps);
  if (base.problem.kind !== 'graph-token') throw new Error('unreachable');
  const g = await buildGraph(base.problem, base.seed);
  const runs = set.runs;
  const out: Curve[] = [];
  let gradNorm = 0;
  for (const [label, walk, alpha] of runs) {
    const spec = specFor(walk, [alpha], c.tokens, c.steps);
    if (spec.problem.kind !== 'graph-token') throw new Error('unreachable');
    const chain = baseChain(g, walk);
    const obj = graphObjective(
      { loss: 'logistic', seed: spec.seed, g12: false, points: spec.problem.points, features: spec.problem.features },
      g,
      chain,
      spec.problem.l2,
    );
    gradNorm = Math.max(gradNorm, obj.gradNorm);
    const theory =
      walk === 'nbrw'
        ? null
        : new SrrwTheory({
            n: g.n,
            p: densePattern(chain),
            mu: chain.mu,
            h: obj.h,
            j: obj.j,
            d: obj.d,
            a: c.a,
            b: c.b,
            sampling: walk === 'iid' ? 'iid' : 'chain',
          }).trace(alpha);
    const f = await walkFixture(spec, 1);
    const sums = c.checkpoints.map(() => ({ e2: 0, s: 0, s2: 0 }));
    const t0 = nowMs();
    for (let t = 0; t < c.tokens; t++) {
      const { rec, params } = startToken(f, t);
      const interior = [new Float64Array(f.shards[0]!.walk!.agents.interior)];
      c.checkpoints.forEach((n, k) => {
        params[TOKEN_PARAMS.HEADER + TOKEN_PARAMS.STEPS] = n;
        walkToEnd(f, rec, params, Number.MAX_SAFE_INTEGER, interior);
        let e2 = 0;
        for (let j = 0; j < obj.d; j++) e2 += (rec[TOKEN.THETA + j]! - obj.thetaStar[j]!) ** 2;
        const scaled = e2 * Math.pow(n + 1, c.b);
        sums[k]!.e2 += e2;
        sums[k]!.s += scaled;
        sums[k]!.s2 += scaled * scaled;
      });
    }
    const seconds = (nowMs() - t0) / 1000;
    const R = c.tokens;
    const curve: Curve = {
      label,
      walk,
      alpha,
      mse: sums.map((x) => x.e2 / R),
      scaled: sums.map((x) => x.s / R),
      scaledStderr: sums.map((x) => Math.sqrt((Math.max(0, x.s2 / R - (x.s / R) ** 2) * (R / (R - 1))) / R)),
      theory,
      stepsPerSecond: (R * c.steps) / seconds,
    };
    out.push(curve);
    log(
      `srrw bench: ${label}: scaled MSE ${curve.scaled.at(-1)!.toPrecision(3)} (theory ${theory?.toPrecision(3) ?? 'n/a'}), ${fixed(curve.stepsPerSecond / 1e6, 2)} M steps/s`,
    );
  }
  return { curves: out, thetaStarGrad: gradNorm, edges: g.edges };
}

interface JobRow {
  readonly label: string;
  readonly transport: string;
  readonly shards: number;
  readonly tokens: number;
  readonly hops: number;
  readonly crossings: number;
  readonly handoffs: number;
  readonly rounds: number;
  readonly seconds: number;
  readonly bytes: number;
  readonly boundary: number;
}

async function job(
  label: string,
  transport: 'inprocess' | 'grpc',
  workers: number,
  shards: number,
  tokens: number,
  steps: number,
): Promise<JobRow> {
  const spec = specFor('mhrw', [SRRW_BENCH.jobAlpha], tokens, steps, shards);
  const doc = await runEmbedded({ spec, transport, workers, workerStderr: 'ignore' });
  if (doc.status !== 'SUCCEEDED' || doc.final === undefined) throw new Error(`${label}: ${doc.status} ${doc.error?.message ?? ''}`);
  const f = doc.final;
  return {
    label,
    transport: transport === 'grpc' ? `grpc ${workers} workers` : 'in-process',
    shards,
    tokens,
    hops: f.hops ?? 0,
    crossings: f.crossings ?? 0,
    handoffs: f.handoffs ?? 0,
    rounds: f.rounds,
    seconds: f.walkSeconds ?? f.seconds,
    bytes: f.bytesSent + f.bytesReceived,
    boundary: f.boundary ?? 0,
  };
}

export async function runSrrwBench(
  log: (s: string) => void,
): Promise<{ table: string; json: Record<string, unknown>; figures: Record<string, string> }> {
  const c = SRRW_BENCH;
  const t0 = nowMs();
  const {
    curves: cs,
    thetaStarGrad,
    edges,
  } = await curves(log, {
    runs: [
      ...c.alphas.map((a): [string, Walk, number] => [a === 0 ? 'MHRW (α=0)' : `SRRW α=${a}`, 'mhrw', a]),
      ['SRW, 1/deg weights', 'srw', 0],
      ['NBRW, 1/deg weights', 'nbrw', 0],
      ['i.i.d. uniform agents', 'iid', 0],
    ],
    tokens: c.tokens,
    checkpoints: c.checkpoints,
  });
  const last = c.checkpoints.length - 1;
  const summary = cs
    .filter((x) => x.walk === 'mhrw')
    .map((x) => ({ alpha: x.alpha, scaledMse: x.scaled[last]!, stderr: x.scaledStderr[last]!, theory: x.theory }));
  const tableA = renderTable(
    `(a) RGG N=${c.nodes} (${edges} edges), logistic B=20 d=10 κ=1, a=${c.a} b=${c.b}: scaled MSE ‖θ_n−θ*‖²·(n+1) at n=${c.steps}, ${c.tokens} tokens each`,
    ['walk', 'α', 'scaled MSE', '± s.e.', 'theory tr V', 'measured/theory', 'raw MSE', 'M steps/s'].map((header) => ({ header })),
    cs.map((x) => [
      x.label,
      String(x.alpha),
      x.scaled[last]!.toPrecision(3),
      x.scaledStderr[last]!.toPrecision(2),
      x.theory === null ? 'n/a' : x.theory.toPrecision(3),
      x.theory === null ? 'n/a' : fixed(x.scaled[last]! / x.theory, 2),
      x.mse[last]!.toExponential(2),
      fixed(x.stepsPerSecond / 1e6, 2),
    ]),
  );
  const tableB = renderTable(
    '(b) MSE ‖θ_n − θ*‖² against n (mean over tokens)',
    [{ header: 'walk' }, ...c.checkpoints.map((n) => ({ header: `n=${n}` }))],
    cs.map((x) => [x.label, ...x.mse.map((v) => v.toExponential(2))]),
  );

  log('srrw bench: (c) crossing rate and hops/s, in-process vs 2 gRPC workers');
  const jobsC: JobRow[] = [];
  for (const shards of [2, 8]) {
    jobsC.push(await job(`${shards} shards`, 'inprocess', 1, shards, c.jobTokens, c.jobSteps));
    jobsC.push(await job(`${shards} shards`, 'grpc', 2, shards, c.jobTokens, c.jobSteps));
  }
  const tableC = renderTable(
    `(c) α=${c.jobAlpha}, ${c.jobTokens} tokens × ${c.jobSteps} steps as an optfleet job (spatial k-d partition; seconds: the walk's rounds only)`,
    [
      'shards',
      'transport',
      'hops',
      'shard crossings/hop',
      'handoffs/hop',
      'boundary nodes',
      'rounds',
      'seconds',
      'hops/s',
      'MB on the wire',
    ].map((header) => ({ header })),
    jobsC.map((r) => [
      String(r.shards),
      r.transport,
      String(r.hops),
      fixed(r.crossings / r.hops, 4),
      fixed(r.handoffs / r.hops, 4),
      String(r.boundary),
      String(r.rounds),
      fixed(r.seconds, 2),
      fixed(r.hops / r.seconds, 0),
      fixed(r.bytes / 1e6, 1),
    ]),
  );

  log('srrw bench: (d) concurrent tokens');
  const jobsD: JobRow[] = [];
  for (const tokens of c.concurrency) {
    jobsD.push(await job(`${tokens} tokens`, 'inprocess', 1, 8, tokens, c.concurrencySteps));
    jobsD.push(await job(`${tokens} tokens`, 'grpc', 2, 8, tokens, c.concurrencySteps));
  }
  const tableD = renderTable(
    `(d) concurrent tokens, 8 shards, ${c.concurrencySteps} steps each (seconds: the walk's rounds only)`,
    ['tokens', 'transport', 'rounds', 'seconds', 'hops/s', 'tokens finished/s', 'MB on the wire'].map((header) => ({ header })),
    jobsD.map((r) => [
      String(r.tokens),
      r.transport,
      String(r.rounds),
      fixed(r.seconds, 2),
      fixed(r.hops / r.seconds, 0),
      fixed(r.tokens / r.seconds, 2),
      fixed(r.bytes / 1e6, 1),
    ]),
  );

  log('srrw bench: (e) long walks');
  const long = await curves(log, {
    runs: c.longAlphas.map((a): [string, Walk, number] => [`SRRW α=${a}`, 'mhrw', a]),
    tokens: c.longTokens,
    checkpoints: c.longCheckpoints,
  });
  const tableE = renderTable(
    `(e) longer walks: scaled MSE (± s.e.) against n, ${c.longTokens} tokens each`,
    [{ header: 'walk' }, ...c.longCheckpoints.map((n) => ({ header: `n=${n}` })), { header: 'theory' }],
    long.curves.map((x) => [
      x.label,
      ...x.scaled.map((v, k) => `${v.toPrecision(3)} ± ${x.scaledStderr[k]!.toPrecision(2)}`),
      x.theory?.toPrecision(3) ?? 'n/a',
    ]),
  );

  const alphaFigure = await renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `SA-SRRW on RGG N=${c.nodes}: scaled MSE vs α (n=${c.steps}, ${c.tokens} tokens)`,
    width: 420,
    height: 280,
    data: {
      values: summary.flatMap((s) => [
        { alpha: Math.max(s.alpha, 0.5), value: s.scaledMse, series: 'measured' },
        ...(s.theory === null ? [] : [{ alpha: Math.max(s.alpha, 0.5), value: s.theory, series: 'theory tr V(α)' }]),
      ]),
    },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'alpha', type: 'quantitative', scale: { type: 'log' }, title: 'α (α=0 plotted at 0.5)' },
      y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: '‖θ_n−θ*‖²·(n+1)' },
      color: { field: 'series', type: 'nominal', legend: { orient: 'bottom' } },
    },
  } as Parameters<typeof renderVegaLiteSvg>[0]);
  const mseFigure = await renderVegaLiteSvg({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'MSE vs steps: MHRW, i.i.d. and SRRW',
    width: 460,
    height: 300,
    data: { values: cs.flatMap((x) => c.checkpoints.map((n, k) => ({ n, mse: x.mse[k], walk: x.label }))) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'n', type: 'quantitative', scale: { type: 'log' }, title: 'steps n' },
      y: { field: 'mse', type: 'quantitative', scale: { type: 'log' }, title: 'E‖θ_n − θ*‖²', axis: { format: '.0e' } },
      color: { field: 'walk', type: 'nominal', legend: { orient: 'bottom', columns: 3, labelLimit: 200 } },
    },
  } as Parameters<typeof renderVegaLiteSvg>[0]);
  return {
    table: [tableA, '', tableB, '', tableC, '', tableD, '', tableE, `total ${fixed((nowMs() - t0) / 1000, 1)} s`].join('\n'),
    json: {
      summary,
      config: c,
      thetaStarGradNorm: thetaStarGrad,
      curves: cs,
      crossing: jobsC,
      concurrency: jobsD,
      long: long.curves,
    },
    figures: { 'srrw-alpha.svg': alphaFigure, 'srrw-mse-steps.svg': mseFigure },
  };
}
