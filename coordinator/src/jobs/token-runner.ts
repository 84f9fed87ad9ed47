/**
 * Runs a graph-token (SA-SRRW) job: builds the same graph, partition and visit layout the workers
 * build, drives token-walk rounds until every token has walked its steps, then scores each α:
 * the mean and standard error over its tokens of ‖θ_n − θ*‖² / betaTheta_n, next to the
 * covariance theory tr V_θ(α) where it is computable.
 */
import {
  ERROR_CODES,
  LIMITS,
  OptfleetError,
  baseChain,
  buildGraph,
  partitionGraph,
  thetaDim,
  visitLayout,
  type JobSpec,
} from '@optfleet/proto';
import { SrrwDriver } from '../algorithms/graph-token/driver.js';
import { densePattern, graphObjective } from '../algorithms/graph-token/objective.js';
import { SrrwTheory, THEORY_MAX_NODES } from '../algorithms/graph-token/theory.js';
import type { Cluster, JobLayout } from '../cluster/cluster.js';
import type { FinalState, HistoryEntry, PerAlpha } from './result.js';
import type { RunHooks, RunOutcome } from './runner.js';

export async function runTokenJob(spec: JobSpec, cluster: Cluster, layout: JobLayout, hooks: RunHooks, t0: number): Promise<RunOutcome> {
  const now = hooks.now ?? (() => performance.now() / 1000);
  const problem = spec.problem;
  const alg = spec.algorithm;
  if (problem.kind !== 'graph-token' || alg.name !== 'sa-srrw') {
    throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'spec.algorithm.name: graph-token problems run sa-srrw');
  }
  const g = await buildGraph(problem, spec.seed);
  const chain = baseChain(g, alg.walk);
  const shardOf = partitionGraph(g, layout.shardCount);
  const visits = visitLayout(g, shardOf, layout.shardCount, problem.visits);
  // The workers built their shards from the same spec: their agent counts must be ours.
  for (let s = 0; s < layout.shardCount; s++) {
    const rows = layout.rowOffsets[s + 1]! - layout.rowOffsets[s]!;
    if (rows !== visits.size[s]) {
      throw new OptfleetError(
        ERROR_CODES.INTERNAL,
        `shard ${s}: the worker built ${rows} agents, the coordinator's partition has ${visits.size[s]}`,
      );
    }
  }
  const rowOfNode = new Int32Array(g.n);
  for (let i = 0; i < g.n; i++) rowOfNode[i] = layout.rowOffsets[shardOf[i]!]! + visits.local[i]!;
  const losses = {
    loss: problem.loss,
    seed: problem.dataSeed ?? spec.seed,
    g12: problem.graph.source === 'g12',
    points: problem.points,
    features: problem.features,
  };
  const d = thetaDim(losses);
  if (problem.loss === 'logistic' && g.n * problem.points * problem.features > LIMITS.graphDataElements) {
    throw new OptfleetError(
      ERROR_CODES.INVALID_ARGUMENT,
      `spec.problem.points: ${g.n} nodes × ${problem.points} points × ${problem.features} features is over the limit of ${LIMITS.graphDataElements} data values`,
    );
  }
  const driver = new SrrwDriver(alg, { nodes: g.n, d, boundary: visits.boundary, rowOfNode, seed: spec.seed });
  // Every round carries all token records in one tensor; workers refuse tensors over this size.
  const perRound = driver.tokens * driver.len;
  if (perRound > LIMITS.features) {
    throw new OptfleetError(
      ERROR_CODES.INVALID_ARGUMENT,
      `spec.algorithm.tokens: ${driver.tokens} tokens × ${driver.len} values (θ, header and ${visits.boundary} boundary visit entries) = ${perRound} is over the per-round limit of ${LIMITS.features} values (use fewer tokens, fewer shards or problem.visits: split)`,
    );
  }
  const totalSteps = driver.tokens * alg.steps;

  // θ* first, so history entries can carry the per-α MSE as the tokens walk.
  const obj = graphObjective(losses, g, chain, problem.l2);
  const msePerAlpha = (): number[] =>
    alg.alpha.map((_, k) => {
      let s = 0;
      for (let t = k * alg.tokens; t < (k + 1) * alg.tokens; t++) {
        const th = driver.thetaOf(t);
        for (let j = 0; j < d; j++) s += (th[j]! - obj.thetaStar[j]!) ** 2;
      }
      return s / alg.tokens;
    });
  const history: HistoryEntry[] = [];
  const walkStart = now();
  let rounds = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  let stopReason = '';
  for (;;) {
    if (hooks.signal?.aborted) throw new OptfleetError(ERROR_CODES.CANCELLED, 'job cancelled');
    if (rounds >= spec.stop.maxRounds) {
      stopReason = `maxRounds (${spec.stop.maxRounds}) reached`;
      break;
    }
    if (now() - t0 >= spec.stop.maxSeconds) {
      stopReason = `maxSeconds (${spec.stop.maxSeconds}) reached`;
      break;
    }
    const ask = driver.ask();
    if (ask.kind === 'done') {
      stopReason = ask.reason;
      break;
    }
    const start = now();
    const res = await cluster.round({ op: ask.op, points: ask.points, rows: ask.rows });
    rounds++;
    bytesSent += res.bytesOut;
    bytesReceived += res.bytesIn;
    const hopsBefore = driver.hops();
    driver.tell(res.sum);
    const theta = driver.iterate();
    for (let k = 0; k < theta.length; k++) {
      if (!Number.isFinite(theta[k]!)) {
        const t = Math.floor(k / d);
        throw new OptfleetError(
          ERROR_CODES.DIVERGED,
          `token ${t} (alpha ${driver.alphaOf(t)}): θ[${k % d}] is ${theta[k]} at step ${driver.stepsOf(t)} (round ${rounds}): the iteration diverged`,
        );
      }
    }
    hooks.onRound?.({
      op: ask.op,
      purpose: 'algorithm',
      seconds: now() - start,
      oracleCalls: driver.hops() - hopsBefore,
      bytesOut: res.bytesOut,
      bytesIn: res.bytesIn,
    });
    // Every token pauses at the same step counts: the history is the same on any placement.
    const cp = driver.takeCheckpoint();
    if (cp !== null) {
      const entry: HistoryEntry = { round: rounds, iteration: cp, seconds: now() - t0, oracleCalls: driver.hops(), mse: msePerAlpha() };
      history.push(entry);
      hooks.onProgress?.({ ...entry, objective: NaN, gradNorm: NaN, fraction: driver.iterations() / totalSteps });
    }
  }

  const walkSeconds = now() - walkStart;
  const theory =
    g.n <= THEORY_MAX_NODES && alg.walk !== 'nbrw'
      ? new SrrwTheory({
          n: g.n,
          p: densePattern(chain),
          mu: chain.mu,
          h: obj.h,
          j: obj.j,
          d,
          a: alg.a,
          b: alg.b,
          sampling: alg.walk === 'iid' ? 'iid' : 'chain',
        })
      : null;
  const perAlpha: PerAlpha[] = alg.alpha.map((alpha, k) => {
    const s: number[] = [];
    for (let t = k * alg.tokens; t < (k + 1) * alg.tokens; t++) {
      const th = driver.thetaOf(t);
      let e2 = 0;
      for (let j = 0; j < d; j++) e2 += (th[j]! - obj.thetaStar[j]!) ** 2;
      // betaTheta_n = (n+1)^(−b) after n steps.
      s.push(e2 * Math.pow(driver.stepsOf(t) + 1, alg.b));
    }
    const mean = s.reduce((p, q) => p + q, 0) / s.length;
    const sd = s.length > 1 ? Math.sqrt(s.reduce((p, q) => p + (q - mean) ** 2, 0) / (s.length - 1)) : NaN;
    const tv = theory?.trace(alpha) ?? null;
    return { alpha, scaledMse: mean, stderr: s.length > 1 ? sd / Math.sqrt(s.length) : null, theory: tv, tokens: alg.tokens };
  });
  const seconds = now() - t0;
  const hops = driver.hops();
  const final: FinalState = {
    x: Array.from(driver.iterate()),
    rounds,
    evaluationRounds: 0,
    oracleCalls: hops,
    evaluationCalls: 0,
    iterations: driver.iterations(),
    seconds,
    stopReason,
    bytesSent,
    bytesReceived,
    perAlpha,
    thetaStar: Array.from(obj.thetaStar),
    hops,
    crossings: driver.crossings(),
    handoffs: driver.handoffs(),
    walkSeconds,
    boundary: visits.boundary,
  };
  hooks.onProgress?.({
    round: rounds,
    iteration: driver.iterations(),
    oracleCalls: hops,
    objective: NaN,
    gradNorm: NaN,
    seconds,
    fraction: 1,
  });
  return { final, history, layout };
}
