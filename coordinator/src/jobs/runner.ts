/**
 * Runs one job: open the cluster, loop ask → round → tell until a stop criterion, evaluate the
 * final point if the driver did not observe it, close. Counts rounds and oracle calls exactly.
 */
import { ERROR_CODES, OptfleetError, bilevelShape, bilevelStart, defaultShardCount, type JobSpec } from '@optfleet/proto';
import { createDriver } from '../algorithms/registry.js';
import type { BilevelDiagnostics, Observation, ProblemInfo } from '../algorithms/driver.js';
import { fullObjective, lossCurvature, norm2 } from '../algorithms/finite-sum/objective.js';
import { meanOperator, residual } from '../algorithms/operator/residual.js';
import { operatorGeometry } from '../algorithms/operator/geometry.js';
import type { Cluster, JobLayout } from '../cluster/cluster.js';
import type { FinalState, HistoryEntry } from './result.js';
import { specJsonOf, type Checkpoint, type CheckpointStore } from './checkpoint.js';
import { runTokenJob } from './token-runner.js';

export interface RunProgress {
  readonly round: number;
  readonly iteration: number;
  readonly oracleCalls: number;
  readonly objective: number;
  readonly gradNorm: number;
  readonly seconds: number;
  /** Furthest of the stop criteria's progress, in [0, 1]. */
  readonly fraction: number;
  /** Multi-block bilevel: exact ‖z − ∇F‖, rms ‖y_i − y_i*‖ and tracker error (see HistoryEntry). */
  readonly estimatorError?: number;
  readonly yError?: number;
  readonly trackerError?: number;
}

/** One finished round, for metrics. */
export interface RoundInfo {
  readonly op: string;
  readonly purpose: 'algorithm' | 'evaluation';
  readonly seconds: number;
  readonly oracleCalls: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
}

export interface RunHooks {
  readonly signal?: AbortSignal;
  onRound?(r: RoundInfo): void;
  onLayout?(layout: JobLayout): void;
  onProgress?(p: RunProgress): void;
  /** Clock in seconds (injected so tests can fake it). @default performance.now()/1000 */
  now?(): number;
  /** Checkpoint the job every `everySeconds` (at a round boundary), and/or resume from `resume`. */
  readonly checkpoint?: {
    readonly store: CheckpointStore;
    /** 0 saves at every round boundary (tests). */
    readonly everySeconds: number;
    /** A checkpoint of this job to resume from (its spec must match). */
    readonly resume?: Checkpoint | null;
    onSaved?(round: number, bytes: number, seconds: number): void;
  };
}

export interface RunOutcome {
  readonly final: FinalState;
  readonly history: HistoryEntry[];
  readonly layout: JobLayout;
  /** Set when the run resumed from a checkpoint. */
  readonly resumedFrom?: { readonly round: number; readonly savedAtMs: number };
}

/** Default shard count when the spec has none. */
export function shardCountFor(spec: JobSpec, fileBytes?: number): number {
  if (spec.shards !== undefined) return spec.shards;
  if (spec.problem.kind === 'graph-token') {
    // About 64 agents a shard (an edge list's size is unknown here: 8; empty shards are allowed).
    const g = spec.problem.graph;
    return g.source === 'g12' ? 1 : g.source === 'rgg' ? Math.max(1, Math.min(64, Math.ceil(g.nodes / 64))) : 8;
  }
  // Bilevel rows are blocks, each with its own samples and state: up to 16 shards.
  if (spec.problem.kind === 'mbbo-quadratic' || spec.problem.kind === 'mbbo-ridge' || spec.problem.kind === 'mbbo-hyperclean')
    return Math.min(16, spec.problem.data.m);
  const data = spec.problem.data;
  if (data.source === 'synthetic') return defaultShardCount(data.n);
  // (file data only from here)
  // About one shard per 2 MiB of text (≈16k a9a rows) when the file's size is known, else 8.
  return fileBytes === undefined ? 8 : Math.max(1, Math.min(256, Math.ceil(fileBytes / (2 * 1024 * 1024))));
}

/** Where a run is, for DIVERGED messages: the round and the driver's iteration. */
interface Where {
  readonly round: number;
  readonly iteration: number;
}

function diverged(what: string, value: number, at: Where): OptfleetError {
  return new OptfleetError(
    ERROR_CODES.DIVERGED,
    `${what} is ${value} at iteration ${at.iteration} (round ${at.round}): the iteration diverged (lower the step size)`,
  );
}

function checkFinite(what: string, v: Float64Array | number, at: Where): void {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw diverged(what, v, at);
    return;
  }
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw diverged(`${what}[${i}]`, v[i]!, at);
  }
}

export async function runJob(
  jobId: string,
  spec: JobSpec,
  cluster: Cluster,
  shardCount: number,
  hooks: RunHooks = {},
): Promise<RunOutcome> {
  const now = hooks.now ?? (() => performance.now() / 1000);
  let t0 = now();
  const resume = hooks.checkpoint?.resume ?? null;
  if (resume !== null) {
    if (resume.jobId !== jobId || resume.specJson !== specJsonOf(spec) || resume.shardCount !== shardCount)
      throw new OptfleetError(ERROR_CODES.INTERNAL, `checkpoint of ${resume.jobId} does not belong to this run of ${jobId}`);
    if (hooks.checkpoint?.store !== undefined && cluster.exportStates === undefined)
      throw new OptfleetError(ERROR_CODES.INTERNAL, 'this cluster cannot restore shard state');
  }
  const layout = await cluster.open(jobId, spec, shardCount, resume?.shards);
  hooks.onLayout?.(layout);
  // Token walks keep their own loop (and take no checkpoints: after a worker loss they restart
  // from round 0, which gives the same bits).
  if (spec.problem.kind === 'graph-token') return runTokenJob(spec, cluster, layout, hooks, t0);
  const problem = spec.problem;
  let x0: Float64Array | undefined;
  let info: ProblemInfo;
  if (problem.kind === 'mbbo-quadratic' || problem.kind === 'mbbo-ridge' || problem.kind === 'mbbo-hyperclean') {
    const quad = problem.kind === 'mbbo-quadratic';
    const shape = bilevelShape(problem);
    info = {
      kind: problem.kind,
      family: 'minimization',
      n: layout.rows,
      d: layout.cols,
      l2: 0,
      lMax: layout.lipschitz,
      seed: spec.seed,
      bilevel: {
        m: layout.rows,
        dy: shape.dy,
        rho: quad && !problem.convex ? problem.rho : 0,
        nu: quad ? problem.nu : 0,
        // Ridge: A_i(x) ⪰ diag(e^x); 1e-3 = e^{−6.9} keeps penalties down to that size unbiased.
        // Hyper-cleaning: g_i is λ-strongly convex.
        mu: quad ? problem.mu : problem.kind === 'mbbo-hyperclean' ? problem.l2 : 1e-3,
        lg: layout.lipschitz,
      },
    };
    x0 = bilevelStart(problem, spec.seed);
  } else
    info =
      problem.kind === 'bilinear-game' || problem.kind === 'matrix-game' || problem.kind === 'dro-logistic'
        ? {
            kind: problem.kind,
            family: 'operator',
            n: layout.rows,
            d: layout.cols,
            l2: 0,
            lMax: layout.lipschitz,
            seed: spec.seed,
            geometry: operatorGeometry(problem, layout.cols),
          }
        : {
            kind: problem.kind,
            family: 'minimization',
            n: layout.rows,
            d: layout.cols,
            l2: problem.l2,
            lMax: lossCurvature(problem.kind) * layout.maxRowNormSq + problem.l2,
            seed: spec.seed,
          };
  x0 ??= info.geometry?.start(info.d);
  const operator = info.family === 'operator';
  /** The stop tolerance on the stationarity measure: ‖∇f‖ or the residual ‖F(u)‖. */
  const tolerance = operator ? spec.stop.residual : spec.stop.gradNorm;
  const measureName = operator ? 'residual' : 'gradNorm';
  /** History/final fields for an observation: f and ‖∇f‖, or the residual. */
  const measures = (
    objective: number,
    measure: number,
    gap?: number,
  ): { objective?: number; gradNorm?: number; residual?: number; gap?: number } =>
    operator ? { residual: measure, ...(gap === undefined ? {} : { gap }) } : { objective, gradNorm: measure };
  const batchSize = 'batchSize' in spec.algorithm ? spec.algorithm.batchSize : undefined;
  if (batchSize !== undefined && batchSize > info.n) {
    throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, `spec.algorithm.batchSize: ${batchSize} is over the data's ${info.n} rows`);
  }
  const driver = createDriver(spec.algorithm, info, x0);
  const bilevelFields = (b: BilevelDiagnostics | undefined): { estimatorError?: number; yError?: number; trackerError?: number } =>
    b === undefined
      ? {}
      : { ...(b.estimatorError === undefined ? {} : { estimatorError: b.estimatorError }), yError: b.yError, trackerError: b.trackerError };
  let lastBilevel: BilevelDiagnostics | undefined;
  const stop = spec.stop;
  const history: HistoryEntry[] = [];
  let rounds = 0;
  let algRounds = 0;
  let evalRounds = 0;
  let oracleCalls = 0;
  let evalCalls = 0;
  let bytesSent = 0;
  let bytesReceived = 0;
  let last: Observation | null = null;
  let lastAtIteration = -1;
  let firstGrad = NaN;
  let stopReason = '';
  if (resume !== null) {
    // Continue exactly where the checkpoint left off: driver, counters, history, clock.
    driver.restore(resume.driver);
    const r = resume.runner;
    rounds = r.rounds;
    algRounds = r.algRounds;
    evalRounds = r.evalRounds;
    oracleCalls = r.oracleCalls;
    evalCalls = r.evalCalls;
    bytesSent = r.bytesSent;
    bytesReceived = r.bytesReceived;
    firstGrad = r.firstGrad;
    lastAtIteration = r.lastAtIteration;
    history.push(...r.history);
    last =
      r.last === null
        ? null
        : {
            x: Float64Array.from(r.last.x),
            objective: r.last.objective,
            gradNorm: r.last.gradNorm,
            iteration: r.last.iteration,
            ...(r.last.gap === undefined ? {} : { gap: r.last.gap }),
            ...(r.last.drift === undefined ? {} : { drift: r.last.drift }),
          };
    t0 = now() - r.elapsedSeconds;
  }
  const cp = hooks.checkpoint;
  let lastSaveAt = now();
  let savedAtRound = resume?.runner.rounds ?? -1;
  const saveCheckpoint = async (): Promise<void> => {
    const started = now();
    const shards = await cluster.exportStates!();
    const checkpoint: Checkpoint = {
      jobId,
      specJson: specJsonOf(spec),
      shardCount,
      createdAtMs: Date.now(),
      driver: driver.snapshot(),
      shards,
      runner: {
        rounds,
        algRounds,
        evalRounds,
        oracleCalls,
        evalCalls,
        bytesSent,
        bytesReceived,
        firstGrad,
        lastAtIteration,
        elapsedSeconds: started - t0,
        history: [...history],
        last:
          last === null
            ? null
            : {
                x: Array.from(last.x),
                objective: last.objective,
                gradNorm: last.gradNorm,
                iteration: last.iteration,
                ...(last.gap === undefined ? {} : { gap: last.gap }),
                ...(last.drift === undefined ? {} : { drift: last.drift }),
              },
      },
    };
    await cp!.store.save(checkpoint);
    let bytes = 0;
    for (const rec of shards.values()) for (const v of Object.values(rec)) bytes += v.byteLength;
    lastSaveAt = now();
    savedAtRound = rounds;
    cp!.onSaved?.(rounds, bytes, lastSaveAt - started);
  };

  const fraction = (seconds: number, gradNorm: number): number => {
    let f = Math.max(algRounds / stop.maxRounds, seconds / stop.maxSeconds);
    if (Number.isFinite(firstGrad) && gradNorm > 0 && tolerance > 0 && firstGrad > tolerance) {
      f = Math.max(f, Math.log(firstGrad / gradNorm) / Math.log(firstGrad / tolerance));
    }
    return Math.min(1, Math.max(0, f));
  };

  for (;;) {
    if (hooks.signal?.aborted) throw new OptfleetError(ERROR_CODES.CANCELLED, 'job cancelled');
    // A round boundary: the driver has been told the last result and no round is in flight.
    if (cp !== undefined && cluster.exportStates !== undefined && rounds !== savedAtRound && now() - lastSaveAt >= cp.everySeconds) {
      await saveCheckpoint();
    }
    const seconds = now() - t0;
    if (algRounds >= stop.maxRounds) {
      stopReason = `maxRounds (${stop.maxRounds}) reached`;
      break;
    }
    if (seconds >= stop.maxSeconds) {
      stopReason = `maxSeconds (${stop.maxSeconds}) reached`;
      break;
    }
    const ask = driver.ask();
    if (ask.kind === 'done') {
      stopReason = ask.reason;
      break;
    }
    const roundStart = now();
    const res = await cluster.round({ op: ask.op, points: ask.points, rows: ask.rows });
    const roundSeconds = now() - roundStart;
    rounds++;
    bytesSent += res.bytesOut;
    bytesReceived += res.bytesIn;
    checkFinite('round result', res.sum, { round: rounds, iteration: driver.iterations() });
    // The last element of every op's result is the rows it evaluated; grad-diff evaluates two points.
    const calls = (ask.op === 'grad-diff' ? 2 : 1) * res.sum[res.sum.length - 1]!;
    if (ask.purpose === 'evaluation') {
      evalRounds++;
      evalCalls += calls;
    } else {
      algRounds++;
      oracleCalls += calls;
    }
    hooks.onRound?.({
      op: ask.op,
      purpose: ask.purpose,
      seconds: roundSeconds,
      oracleCalls: calls,
      bytesOut: res.bytesOut,
      bytesIn: res.bytesIn,
    });
    const obs = driver.tell(res.sum);
    if (obs !== null) {
      if (!operator) checkFinite('objective', obs.objective, { round: rounds, iteration: driver.iterations() });
      checkFinite(operator ? 'residual' : 'gradient norm', obs.gradNorm, { round: rounds, iteration: driver.iterations() });
      checkFinite('iterate', obs.x, { round: rounds, iteration: driver.iterations() });
      last = obs;
      lastAtIteration = driver.iterations();
      if (!Number.isFinite(firstGrad)) firstGrad = obs.gradNorm;
      const s = now() - t0;
      const entry: HistoryEntry = {
        round: rounds,
        iteration: obs.iteration,
        seconds: s,
        oracleCalls,
        ...measures(obs.objective, obs.gradNorm, obs.gap),
        ...(obs.drift === undefined ? {} : { drift: obs.drift }),
        ...bilevelFields(obs.bilevel),
      };
      history.push(entry);
      hooks.onProgress?.({ ...entry, objective: obs.objective, gradNorm: obs.gradNorm, fraction: fraction(s, obs.gradNorm) });
      if (obs.gradNorm <= tolerance) {
        stopReason = `${measureName} ${obs.gradNorm.toExponential(3)} ≤ ${tolerance}`;
        break;
      }
    }
  }

  let x: Float64Array;
  let objective: number;
  let gradNorm: number;
  let gap: number | undefined;
  if (last !== null && (lastAtIteration === driver.iterations() || stopReason.startsWith(measureName))) {
    x = last.x;
    objective = last.objective;
    gap = last.gap;
    gradNorm = last.gradNorm;
    lastBilevel = last.bilevel;
  } else if (driver.closingAsk !== undefined) {
    // Drivers whose problem needs its own exact evaluation (bilevel) measure the final point themselves.
    const ask = driver.closingAsk();
    if (ask.kind !== 'round') throw new OptfleetError(ERROR_CODES.INTERNAL, 'closing evaluation: the driver asked for no round');
    const roundStart = now();
    const res = await cluster.round({ op: ask.op, points: ask.points, rows: ask.rows });
    const calls = res.sum[res.sum.length - 1]!;
    rounds++;
    evalRounds++;
    evalCalls += calls;
    hooks.onRound?.({
      op: ask.op,
      purpose: 'evaluation',
      seconds: now() - roundStart,
      oracleCalls: calls,
      bytesOut: res.bytesOut,
      bytesIn: res.bytesIn,
    });
    bytesSent += res.bytesOut;
    bytesReceived += res.bytesIn;
    checkFinite('round result', res.sum, { round: rounds, iteration: driver.iterations() });
    const obs = driver.tell(res.sum);
    if (obs === null) throw new OptfleetError(ERROR_CODES.INTERNAL, 'closing evaluation: the driver returned no observation');
    x = obs.x;
    objective = obs.objective;
    gradNorm = obs.gradNorm;
    lastBilevel = obs.bilevel;
    checkFinite('objective', objective, { round: rounds, iteration: driver.iterations() });
    checkFinite(measureName, gradNorm, { round: rounds, iteration: driver.iterations() });
  } else {
    x = driver.iterate().slice();
    checkFinite('iterate', x, { round: rounds, iteration: driver.iterations() });
    const roundStart = now();
    const op = operator ? 'op-eval' : 'loss-grad';
    const res = await cluster.round({ op, points: [x], rows: 'all' });
    const calls = res.sum[res.sum.length - 1]!;
    rounds++;
    evalRounds++;
    evalCalls += calls;
    hooks.onRound?.({
      op,
      purpose: 'evaluation',
      seconds: now() - roundStart,
      oracleCalls: calls,
      bytesOut: res.bytesOut,
      bytesIn: res.bytesIn,
    });
    bytesSent += res.bytesOut;
    bytesReceived += res.bytesIn;
    if (operator) {
      objective = NaN;
      const F = meanOperator(info, res.sum, x);
      const m = info.geometry?.measure(x, F) ?? { residual: residual(F) };
      gradNorm = m.residual;
      gap = m.gap;
    } else {
      const full = fullObjective(info, x, res.sum);
      objective = full.objective;
      gradNorm = norm2(full.grad);
      checkFinite('objective', objective, { round: rounds, iteration: driver.iterations() });
    }
    checkFinite(measureName, gradNorm, { round: rounds, iteration: driver.iterations() });
  }
  const seconds = now() - t0;
  hooks.onProgress?.({
    round: rounds,
    iteration: driver.iterations(),
    oracleCalls,
    objective,
    gradNorm,
    seconds,
    fraction: 1,
    ...bilevelFields(lastBilevel),
  });
  return {
    layout,
    history,
    ...(resume === null ? {} : { resumedFrom: { round: resume.runner.rounds, savedAtMs: resume.createdAtMs } }),
    final: {
      x: Array.from(x),
      ...measures(objective, gradNorm, gap),
      ...bilevelFields(lastBilevel),
      rounds,
      evaluationRounds: evalRounds,
      oracleCalls,
      evaluationCalls: evalCalls,
      iterations: driver.iterations(),
      seconds,
      stopReason,
      bytesSent,
      bytesReceived,
    },
  };
}
