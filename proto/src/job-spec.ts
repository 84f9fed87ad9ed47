/**
 * The job spec: YAML or JSON, validated with zod at every edge (CLI, JobService, worker). Unknown
 * fields are rejected; every error names the field path and the limit it broke.
 */
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { invalidArgument } from './errors.js';
import { LIMITS } from './limits.js';
import { MAX_SEED } from './rng.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const positive = (max: number) => z.number().positive().max(max);

const syntheticData = z.strictObject({
  source: z.literal('synthetic'),
  /** Rows. */
  n: int(1, LIMITS.rows),
  /** Features. */
  d: int(1, LIMITS.features),
  /** Seed of the data (defaults to the job seed). */
  seed: int(0, MAX_SEED).optional(),
  /** least-squares: standard deviation of the target noise. logistic: unused. @default 0.1 */
  noise: z.number().min(0).max(1e6).default(0.1),
});

const fileData = z.strictObject({
  source: z.literal('file'),
  format: z.enum(['libsvm', 'csv']),
  /** Path on the workers' file system (embedded mode: relative to the current directory). */
  path: z.string().min(1).max(4096),
  /** Feature columns (default: from the file). */
  features: int(1, LIMITS.features).optional(),
  /** libsvm: indices start at 0. @default false */
  zeroBased: z.boolean().default(false),
  /** csv: which column is the label. @default 'last' */
  labelColumn: z.enum(['first', 'last']).default('last'),
  /** csv: skip a header line. @default false */
  header: z.boolean().default(false),
});

const minimization = <K extends 'logistic' | 'least-squares'>(kind: K) =>
  z.strictObject({
    kind: z.literal(kind),
    /** λ in (λ/2)‖w‖². @default 0 */
    l2: z.number().min(0).max(1e6).default(0),
    data: z.discriminatedUnion('source', [syntheticData, fileData]),
  });

/**
 * The regularised bilinear finite-sum game of spec §6(a): F_i(z) = M_i z + q_i with
 * M_i = [[μI, B_i], [−B_iᵀ, μI]], B_i = B + σG_i, q_i = q + σh_i, ‖B‖₂ = 1 and Σ_i G_i = 0,
 * Σ_i h_i = 0 (antithetic pairs), so F(z) = Mz + q and z* = −M⁻¹q. μ > 0: cocoercive (A1);
 * μ = 0: monotone, not cocoercive (A2).
 */
const bilinearData = z.strictObject({
  source: z.literal('synthetic'),
  /** Components n. */
  n: int(1, LIMITS.rows),
  /** Block size m (the iterate z = (x, y) has 2m entries). */
  m: int(1, 4096),
  /** Strong monotonicity μ ≥ 0. @default 0.1 */
  mu: z.number().min(0).max(1e6).default(0.1),
  /** Spread σ of the components around their mean. @default 1 */
  sigma: z.number().min(0).max(1e6).default(1),
  /** Seed of the data (defaults to the job seed). */
  seed: int(0, MAX_SEED).optional(),
});

const bilinearGame = z.strictObject({
  kind: z.literal('bilinear-game'),
  data: bilinearData,
});

/**
 * The matrix game min_{x∈Δ} max_{y∈Δ} yᵀAx over probability simplices (spec §3.1), split into N
 * coordinate-pair components. A: the seeded "policeman and burglar" matrix, or a CSV file.
 */
const matrixGame = z.strictObject({
  kind: z.literal('matrix-game'),
  data: z.discriminatedUnion('source', [
    z.strictObject({
      source: z.literal('synthetic'),
      /** Matrix size N (components; the iterate (x, y) has 2N entries). */
      n: int(1, 10_000),
      /** θ of A_ij = w_j(1 − exp(−θ|i−j|)). @default 0.8 */
      theta: z.number().positive().max(1e3).default(0.8),
      /** Seed of w (defaults to the job seed). */
      seed: int(0, MAX_SEED).optional(),
    }),
    z.strictObject({
      source: z.literal('file'),
      format: z.literal('csv'),
      /** N rows of N comma-separated payoffs (≤ 10000×10000). */
      path: z.string().min(1).max(4096),
      /** Skip a header line. @default false */
      header: z.boolean().default(false),
    }),
  ]),
});

/**
 * DRO logistic regression with χ²-penalised sample weights (spec §6b): the saddle problem
 * min_x max_{q ∈ n·Δ} (1/n)Σ q_iℓ_i(x) − (ρ/(2n))‖q − 1‖² + (λ/2)‖x‖² over u = (x, q).
 */
const droLogistic = z.strictObject({
  kind: z.literal('dro-logistic'),
  /** λ. @default 0.001 */
  l2: z.number().positive().max(1e6).default(1e-3),
  /** ρ of the χ² penalty. @default 1 */
  rho: z.number().positive().max(1e9).default(1),
  data: z.strictObject({
    source: z.literal('synthetic'),
    /** Samples n (the iterate has d + n entries). */
    n: int(1, 1_000_000),
    /** Features d. */
    d: int(1, 100_000),
    /** Share of labels flipped. @default 0.1 */
    flip: z.number().min(0).max(1).default(0.1),
    /** Seed of the data (defaults to the job seed). */
    seed: int(0, MAX_SEED).optional(),
  }),
});

/**
 * Random-walk token optimisation (SA-SRRW, spec sa-srrw.md): agents on a graph hold local losses;
 * tokens carrying θ walk the graph. The graph: the 12-node test graph, a random geometric graph
 * (resampled until connected) or a SNAP-style edge-list file.
 */
const graphToken = z.strictObject({
  kind: z.literal('graph-token'),
  graph: z.discriminatedUnion('source', [
    z.strictObject({ source: z.literal('g12') }),
    z.strictObject({
      source: z.literal('rgg'),
      /** Agents N. */
      nodes: int(2, LIMITS.graphNodes),
      /** Seed of the point positions (defaults to the job seed). */
      seed: int(0, MAX_SEED).optional(),
      /** Connection radius (default √(2.5 ln N / (π N))). */
      radius: z.number().positive().max(2).optional(),
    }),
    z.strictObject({
      source: z.literal('file'),
      /** SNAP-style edge list ("u v" per line, '#' comments), read by the coordinator and the workers. */
      path: z.string().min(1).max(4096),
    }),
  ]),
  /** Local losses: quadratic ½‖θ − c_i‖² (d = 2) or logistic shards (spec §4(b)). @default 'quadratic' */
  loss: z.enum(['quadratic', 'logistic']).default('quadratic'),
  /** logistic: data points per agent. @default 20 */
  points: int(1, 10_000).default(20),
  /** logistic: features d. @default 10 */
  features: int(1, 1000).default(10),
  /** logistic: κ of (κ/2)‖θ‖². @default 1 */
  l2: z.number().min(0).max(1e6).default(1),
  /** Seed of the agents' data (defaults to the job seed). */
  dataSeed: int(0, MAX_SEED).optional(),
  /** Where the visit measure lives: 'split' (boundary entries in the token, interior on the shard) or 'token' (all in the token). @default 'split' */
  visits: z.enum(['split', 'token']).default('split'),
});

/**
 * Multi-block bilevel (MBBO spec §4(a)): m blocks, per block n lower samples (a, b, c) and n_f upper
 * samples (p, q); g_i = ½(aᵀy)² − (aᵀy)(bᵀx + c) + (μ/2)‖y‖², f_i = ½(pᵀy − q)² + r(x) with
 * r(x) = ρΣx_k²/(1+x_k²) + (ν/2)‖x‖². Closed-form y_i*(x), F and ∇F.
 */
const mbboQuadratic = z.strictObject({
  kind: z.literal('mbbo-quadratic'),
  /** ρ = 0 (F is a convex quadratic with x* = −K⁻¹k) when true. @default false */
  convex: z.boolean().default(false),
  /** Lower-level ridge μ (strong convexity of every g_i). @default 0.1 */
  mu: z.number().positive().max(1e6).default(0.1),
  /** ν of r(x). @default 0.001 */
  nu: z.number().min(0).max(1e6).default(1e-3),
  /** ρ of r(x) (ignored when convex). @default 0.1 */
  rho: z.number().min(0).max(1e6).default(0.1),
  data: z.strictObject({
    source: z.literal('synthetic'),
    /** Lower-level blocks m (the job's rows). */
    m: int(1, 1_000_000),
    /** Upper dimension d. @default 20 */
    d: int(1, 100_000).default(20),
    /** Lower dimension d_y. @default 10 */
    dy: int(1, 10_000).default(10),
    /** Lower-level samples per block. @default 200 */
    n: int(1, 1_000_000).default(200),
    /** Upper-level samples per block. @default 200 */
    nf: int(1, 1_000_000).default(200),
    /** σ_b of b = Mᵀa + σ_b·N(0, I). @default 0.5 */
    sigmaB: z.number().min(0).max(1e6).default(0.5),
    /** Start x_0 = x0Scale·N(0, I). @default 2 */
    x0Scale: z.number().min(0).max(1e6).default(2),
    /** Seed of the data (defaults to the job seed). */
    seed: int(0, MAX_SEED).optional(),
  }),
});

/**
 * MBBO spec §4(a′): multi-task ridge with a learned per-feature penalty (x-dependent Hessian):
 * g_i = (1/2n)‖X_i y − t_i‖² + ½Σ_k e^{x_k} y_k², f_i = (1/2n_v)‖X_i^v y − t_i^v‖², d = d_y.
 */
const mbboRidge = z.strictObject({
  kind: z.literal('mbbo-ridge'),
  data: z.strictObject({
    source: z.literal('synthetic'),
    /** Tasks (blocks) m. */
    m: int(1, 1_000_000),
    /** Features d (= d_y: one penalty per feature). @default 10 */
    d: int(1, 10_000).default(10),
    /** Training samples per task. @default 100 */
    n: int(1, 1_000_000).default(100),
    /** Validation samples per task. @default 100 */
    nv: int(1, 1_000_000).default(100),
    /** Target noise σ. @default 0.1 */
    noise: z.number().min(0).max(1e6).default(0.1),
    /** Seed of the data (defaults to the job seed). */
    seed: int(0, MAX_SEED).optional(),
  }),
});

/**
 * MBBO spec §4(b): multi-temperature data hyper-cleaning on generated data. x = p ∈ ℝ^{n_tr} (one
 * logit per training sample, weight ω_j = sigmoid(p_j)); block i has temperature σ_i and
 * g_i(p, w) = (1/n_tr)Σ_j ω_j ℓ_i(w; a_j, y_j) + (λ/2)‖w‖², f_i(w) = (1/n_val)Σ_k ℓ_i(w; a_k, y_k),
 * ℓ_i(w; a, y) = log(1 + exp(−(y/σ_i)wᵀa)), a = [1; z].
 */
const mbboHyperclean = z.strictObject({
  kind: z.literal('mbbo-hyperclean'),
  /** λ of (λ/2)‖w‖² (the spec's 1e-3, not the paper's 1e-5). @default 0.001 */
  l2: z.number().positive().max(1e6).default(1e-3),
  data: z.strictObject({
    source: z.literal('synthetic'),
    /** Temperatures (blocks) m; σ_i = 1 + 10·U(0, 1). */
    m: int(1, 100_000),
    /** Features d_f (d_y = d_f + 1 with the bias). @default 50 */
    features: int(1, 10_000).default(50),
    /** Training samples n_tr (the upper dimension d). @default 4096 */
    nTrain: int(1, 1_000_000).default(4096),
    /** Clean validation samples. @default 1024 */
    nVal: int(1, 1_000_000).default(1024),
    /** Share of training labels flipped. @default 0.2 */
    flip: z.number().min(0).max(1).default(0.2),
    /** Seed of the data (defaults to the job seed). */
    seed: int(0, MAX_SEED).optional(),
  }),
});

const problem = z.discriminatedUnion('kind', [
  graphToken,
  minimization('logistic'),
  minimization('least-squares'),
  bilinearGame,
  matrixGame,
  droLogistic,
  mbboQuadratic,
  mbboRidge,
  mbboHyperclean,
]);

const svrg = z.strictObject({
  name: z.literal('svrg'),
  /** Step size η (default 1/(3·L_max), L_max the largest per-row smoothness constant). */
  stepSize: positive(1e6).optional(),
  /** Rows per inner step (one round each). @default 64 */
  batchSize: int(1, LIMITS.batchSize).default(64),
  /** Inner steps per epoch (default: ceil(n / batchSize), one data pass). */
  innerSteps: int(1, LIMITS.maxRounds).optional(),
});

const sgd = z.strictObject({
  name: z.literal('sgd'),
  /** Initial step size η₀ (default 1/L_max). */
  stepSize: positive(1e6).optional(),
  /** Rows per step. @default 64 */
  batchSize: int(1, LIMITS.batchSize).default(64),
  /** η_t = η₀ / (1 + t / decaySteps); 0 keeps η constant. @default 0 */
  decaySteps: z.number().min(0).max(LIMITS.maxRounds).default(0),
  /** Evaluate the full objective every this many steps (an extra round each). @default 100 */
  evalEvery: int(1, LIMITS.maxRounds).default(100),
});

const saga = z.strictObject({
  name: z.literal('saga'),
  /** Step size η (default 1/(3·L_max)). */
  stepSize: positive(1e6).optional(),
  /** Distinct rows per step. @default 64 */
  batchSize: int(1, LIMITS.batchSize).default(64),
  /** Evaluate the full objective every this many steps (an extra round each). @default 100 */
  evalEvery: int(1, LIMITS.maxRounds).default(100),
});

const lsvrg = z.strictObject({
  name: z.literal('lsvrg'),
  /** Step size η (default 1/(3·L_max)). */
  stepSize: positive(1e6).optional(),
  /** Rows per step (one round each). @default 64 */
  batchSize: int(1, LIMITS.batchSize).default(64),
  /** Probability of a new snapshot (a full-gradient round) after each step, in (0, 1] (default batchSize / n). */
  p: z.number().gt(0).max(1).optional(),
});

const sarah = z.strictObject({
  name: z.literal('sarah'),
  /** Step size η (default 1/(2·L_max)). */
  stepSize: positive(1e6).optional(),
  /** Distinct rows per inner step (one round each). @default 64 */
  batchSize: int(1, LIMITS.batchSize).default(64),
  /** Steps per outer loop, the full-gradient step included (default: ceil(n / batchSize)). */
  innerSteps: int(1, LIMITS.maxRounds).optional(),
});

const page = z.strictObject({
  name: z.literal('page'),
  /** Step size η (default 1/(L_max·(1 + √((1 − p)/(p·batchSize)))), Li et al. 2021). */
  stepSize: positive(1e6).optional(),
  /** Distinct rows b′ per gradient-difference step (default: ceil(√n)). */
  batchSize: int(1, LIMITS.batchSize).optional(),
  /** Probability of a full-gradient step, in (0, 1] (default b′/(n + b′)). */
  p: z.number().gt(0).max(1).optional(),
  /** Exact drift diagnostic ‖g̃(x) − ∇f(x)‖ at snapshots (one extra evaluation round of 2b′ calls each). @default false */
  driftCheck: z.boolean().default(false),
});

/** Deterministic Halpern: u⁺ = λ_k u₀ + (1 − λ_k)(u − ηF(u)), λ_k = 1/(k+2). */
const halpern = z.strictObject({
  name: z.literal('halpern'),
  /** η ≤ 2/L_F (default 1/L, L the problem's Lipschitz bound). */
  stepSize: positive(1e6).optional(),
});

/** VR-Halpern Algorithm 1 (Cai, Alacaoglu & Diakonikolas 2024): Halpern with a PAGE estimator. */
const vrHalpern = z.strictObject({
  name: z.literal('vr-halpern'),
  /** η (default 1/L). */
  stepSize: positive(1e6).optional(),
  /** Distinct components per PAGE difference step (default ⌈√n⌉). */
  batchSize: int(1, LIMITS.batchSize).optional(),
  /** Use p_k ≡ 1 (the same iteration with full batches: isolates variance reduction). @default false */
  fullBatch: z.boolean().default(false),
  /** Exact drift diagnostic ‖F̃ − F(u)‖ at snapshots (one extra evaluation round of 2b calls each). @default false */
  driftCheck: z.boolean().default(false),
});

/** VR-Halpern Algorithm 2: inexact Halpern on the resolvent with a VR-FoRB inner solver (monotone Lipschitz). */
const vrHalpernForb = z.strictObject({
  name: z.literal('vr-halpern-forb'),
  /** Resolvent step η (default √n/L). */
  stepSize: positive(1e9).optional(),
  /** Components per inner step: default ⌈√n⌉ (minibatched, one round each); 1 = single-sample VR-FoRB. */
  batchSize: int(1, LIMITS.batchSize).optional(),
  /** γ of the inner step τ = γ·√b·√(p(1−p))/(1 + ηL). @default 0.9 */
  gamma: z.number().positive().max(1e3).default(0.9),
  /** c of the inner step count M_k = ⌈c·(n/b)·ln(k+2)⌉. @default 0.05 */
  innerFactor: z.number().positive().max(1e3).default(0.05),
});

/** Extragradient: z̄ = z − ηF(z), z⁺ = z − ηF(z̄). */
const eg = z.strictObject({
  name: z.literal('eg'),
  /** η < 1/L_F (default 1/(2L)). */
  stepSize: positive(1e6).optional(),
});

/** Extra-anchored gradient (Yoon & Ryu 2021), β_k = 1/(k+2). */
const eag = z.strictObject({
  name: z.literal('eag'),
  /** η (default 1/(8L)). */
  stepSize: positive(1e6).optional(),
});

/** SA-SRRW (Hu, Doshi & Eun, ICLR 2024): tokens walk a self-repellent random walk and take an SA step at every agent they visit. */
const saSrrw = z.strictObject({
  name: z.literal('sa-srrw'),
  /** Self-repellence α ≥ 0: one value or a list (tokens run per value; α = 0 is the base chain). */
  alpha: z.preprocess((v) => (typeof v === 'number' ? [v] : v), z.array(z.number().min(0).max(1000)).min(1).max(64)),
  /** Visit-measure step gammaX_n = (n+1)^(−a), a ∈ (½, 1] (the paper's γ). @default 0.7 */
  a: z.number().gt(0.5).max(1).default(0.7),
  /** θ step betaTheta_n = (n+1)^(−b), b ∈ (½, 1] (the paper's β). @default 1 */
  b: z.number().gt(0.5).max(1).default(1),
  /** Independent tokens per α value. @default 16 */
  tokens: int(1, LIMITS.tokens).default(16),
  /** Steps (hops) each token walks. */
  steps: int(1, LIMITS.maxRounds),
  /** Base walk: mhrw (Metropolis–Hastings toward uniform μ), srw (simple, μ ∝ degree), or the α = 0 baselines nbrw (non-backtracking) and iid (uniform agent sampling). @default 'mhrw' */
  walk: z.enum(['mhrw', 'srw', 'nbrw', 'iid']).default('mhrw'),
  /** Hops a shard runs per token per round before handing it back (bounds a round's time). @default 100000 */
  hopsPerRound: int(1, LIMITS.maxRounds).default(100_000),
});

/** Settings every multi-block bilevel method shares (MBBO spec §2.4, §2.5, §5.3). */
const bilevelCommon = {
  /** Blocks sampled per iteration (I ≤ m). @default 8 */
  I: int(1, 1_000_000).default(8),
  /** Samples per sampled block for g and for f (≥ n: the block's full batch). @default 16 */
  B: int(1, 1_000_000).default(16),
  /** Upper step η: x ← x − η·z. @default 0.05 */
  eta: positive(1e6).default(0.05),
  /** Lower step τ: y_i ← y_i − τ·v_i (default 0.5/(γ_eff·L_g), half the §5.3 bound). */
  tau: positive(1e6).optional(),
  /** v2 / stoch-bilevel: u step τ_u (default: as tau). */
  tauU: positive(1e6).optional(),
  /** 'sampled': only sampled blocks move; 'all': every y_i (and u_i) moves every iteration (exact lazy catch-up). @default 'sampled' */
  update: z.enum(['sampled', 'all']).default('sampled'),
  /** 'uniform': I distinct blocks uniformly each iteration; 'reshuffle': a fresh permutation per ⌊m/I⌋ iterations, consecutive chunks. @default 'uniform' */
  blockSampling: z.enum(['uniform', 'reshuffle']).default('uniform'),
  /** v2 / stoch-bilevel: radius C_u of the ball ‖u_i‖ ≤ C_u. @default 100 */
  uBound: positive(1e12).default(100),
  /** Exact evaluation (‖∇F‖, F, tracking errors) every this many iterations (an extra round each). @default 10 */
  evalEvery: int(1, LIMITS.maxRounds).default(10),
  /** Refuse steps that break τ·γ_eff·L_g ≤ 1 (spec §5.3). @default true */
  stepGuard: z.boolean().default(true),
  /** Fail DIVERGED when the exact ‖∇F‖ exceeds this factor times its first value. @default 1000000 */
  divergenceFactor: z.number().gt(1).max(1e300).default(1e6),
};

/** STORM weight β and MSVR weights α, γ (spec §2.1). */
const vrWeights = {
  /** STORM β in z = Ḡ^new + (1−β)(z − Ḡ^old). @default 0.1 */
  beta: z.number().gt(0).max(1).default(0.1),
  /** MSVR α. @default 0.1 */
  alpha: z.number().gt(0).max(1).default(0.1),
  /** MSVR γ (default (m−I)/(I(1−α)) + (1−α), the MSVR theory value). */
  gamma: z.number().min(0).max(1e6).optional(),
};

/** BSVRB^v1: tracks the Hessians H_i (d_y×d_y, projected onto [hMin, hMax] by eigenvalue clipping). */
const bsvrbV1 = z.strictObject({
  name: z.literal('bsvrb-v1'),
  ...bilevelCommon,
  ...vrWeights,
  /** Smallest eigenvalue kept in H_i (default: the problem's strong-convexity bound). */
  hMin: positive(1e12).optional(),
  /** Largest eigenvalue kept in H_i (default: L_g, the largest block Hessian eigenvalue at x_0, times 2). */
  hMax: positive(1e12).optional(),
});

/** BSVRB^v2: tracks u_i ≈ H_i⁻¹∇_y f_i with Hessian-vector products only. */
const bsvrbV2 = z.strictObject({ name: z.literal('bsvrb-v2'), ...bilevelCommon, ...vrWeights });

/** Baseline without variance reduction: α = 1, γ = 0, β = 1 of v2 (SOBA-type, no old-point evaluations). */
const stochBilevel = z.strictObject({ name: z.literal('stoch-bilevel'), ...bilevelCommon });

const lbfgs = z.strictObject({
  name: z.literal('lbfgs'),
  /** Correction pairs kept. @default 10 */
  memory: int(1, LIMITS.lbfgsMemory).default(10),
  /** Armijo constant c₁. @default 1e-4 */
  c1: z.number().gt(0).lt(1).default(1e-4),
  /** Function evaluations per line search before the job fails. @default 30 */
  maxLineSearch: int(1, 100).default(30),
});

const stop = z
  .strictObject({
    /** Stop when ‖∇f‖ ≤ gradNorm (checked whenever a full gradient is known). @default 1e-8 */
    gradNorm: z.number().min(0).max(1e6).default(1e-8),
    /** Operator problems: stop when the residual ‖F(u)‖ ≤ residual. @default 1e-8 */
    residual: z.number().min(0).max(1e6).default(1e-8),
    /** Algorithm rounds. @default 100000 */
    maxRounds: int(1, LIMITS.maxRounds).default(100_000),
    /** Wall-clock seconds. @default 3600 */
    maxSeconds: z.number().positive().max(LIMITS.maxSeconds).default(3600),
  })
  .default({ gradNorm: 1e-8, residual: 1e-8, maxRounds: 100_000, maxSeconds: 3600 });

const jobAlgorithm = z.discriminatedUnion('name', [
  svrg,
  sgd,
  saga,
  lbfgs,
  lsvrg,
  sarah,
  page,
  halpern,
  vrHalpern,
  vrHalpernForb,
  eg,
  eag,
  saSrrw,
  bsvrbV1,
  bsvrbV2,
  stochBilevel,
]);

export const jobSpecSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, ".", "_" and "-" only'),
    /** Seed of every random draw of the job. @default 0 */
    seed: int(0, MAX_SEED).default(0),
    /** Shards (fixed for the job; results do not depend on the number of workers). Default: from the data. */
    shards: int(1, LIMITS.shards).optional(),
    problem,
    algorithm: jobAlgorithm,
    stop,
  })
  .superRefine((spec, ctx) => {
    const alg = spec.algorithm;
    if (spec.problem.kind === 'graph-token' || alg.name === 'sa-srrw') {
      if (spec.problem.kind !== 'graph-token') {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `sa-srrw walks a graph of agents: it needs problem.kind graph-token, not ${spec.problem.kind}`,
        });
      } else if (alg.name !== 'sa-srrw') {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `graph-token problems run algorithm sa-srrw, not ${alg.name}`,
        });
      } else {
        if ((alg.walk === 'nbrw' || alg.walk === 'iid') && alg.alpha.some((v) => v !== 0)) {
          ctx.addIssue({
            code: 'custom',
            path: ['algorithm', 'alpha'],
            message: `the ${alg.walk} baseline is not a reversible base chain, so it takes alpha 0 only`,
          });
        }
        if (alg.tokens * alg.alpha.length > LIMITS.tokens) {
          ctx.addIssue({
            code: 'custom',
            path: ['algorithm', 'tokens'],
            message: `tokens × alpha values = ${alg.tokens * alg.alpha.length} is over the limit of ${LIMITS.tokens}`,
          });
        }
        const n = spec.problem.graph.source === 'g12' ? 12 : spec.problem.graph.source === 'rgg' ? spec.problem.graph.nodes : undefined;
        const pr = spec.problem;
        if (n !== undefined && pr.loss === 'logistic' && n * pr.points * pr.features > LIMITS.graphDataElements) {
          ctx.addIssue({
            code: 'custom',
            path: ['problem', 'points'],
            message: `nodes × points × features = ${n * pr.points * pr.features} is over the limit of ${LIMITS.graphDataElements} data values`,
          });
        }
        if (n !== undefined && spec.shards !== undefined && spec.shards > n) {
          ctx.addIssue({
            code: 'custom',
            path: ['shards'],
            message: `${spec.shards} shards for only ${n} agents (at most the node count)`,
          });
        }
      }
      return;
    }
    const data = spec.problem.data;
    const operatorAlg = (OPERATOR_ALGORITHMS as readonly string[]).includes(alg.name);
    const bilevelAlg = (BILEVEL_ALGORITHMS as readonly string[]).includes(alg.name);
    if (spec.problem.kind === 'mbbo-quadratic' || spec.problem.kind === 'mbbo-ridge' || spec.problem.kind === 'mbbo-hyperclean') {
      refineBilevel(spec.problem, alg, spec.shards, ctx);
      return;
    }
    if (bilevelAlg) {
      ctx.addIssue({
        code: 'custom',
        path: ['algorithm', 'name'],
        message: `${alg.name} solves multi-block bilevel problems (mbbo-quadratic, mbbo-ridge, mbbo-hyperclean), not ${spec.problem.kind}`,
      });
      return;
    }
    if (spec.problem.kind === 'matrix-game' || spec.problem.kind === 'dro-logistic') {
      if (!operatorAlg) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `${alg.name} minimises a loss; ${spec.problem.kind} is an operator problem: use one of ${OPERATOR_ALGORITHMS.join(', ')}`,
        });
      }
    } else if (spec.problem.kind === 'bilinear-game') {
      const d = spec.problem.data;
      const per = d.m * d.m + 2 * d.m;
      if (d.n * per > LIMITS.denseElements) {
        ctx.addIssue({
          code: 'custom',
          path: ['problem', 'data', 'n'],
          message: `n·(m²+2m) = ${d.n * per} is over the limit of ${LIMITS.denseElements} stored elements`,
        });
      }
      if (!operatorAlg) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `${alg.name} minimises a loss; bilinear-game is an operator problem: use one of ${OPERATOR_ALGORITHMS.join(', ')}`,
        });
      } else if ((alg.name === 'halpern' || alg.name === 'vr-halpern') && d.mu === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `${alg.name} needs a cocoercive operator, and problem.data.mu = 0 makes this game monotone only: use vr-halpern-forb, eg or eag, or set mu > 0`,
        });
      }
    } else {
      if (operatorAlg) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithm', 'name'],
          message: `${alg.name} solves operator problems (bilinear-game, matrix-game, dro-logistic), not ${spec.problem.kind}`,
        });
      }
      if (data.source === 'synthetic' && 'd' in data && data.n * data.d > LIMITS.denseElements) {
        ctx.addIssue({
          code: 'custom',
          path: ['problem', 'data', 'n'],
          message: `n·d = ${data.n * data.d} is over the limit of ${LIMITS.denseElements} dense elements`,
        });
      }
    }
    if (data.source === 'synthetic' && 'n' in data) {
      if (spec.shards !== undefined && spec.shards > data.n) {
        ctx.addIssue({ code: 'custom', path: ['shards'], message: `${spec.shards} shards for only ${data.n} rows (at most n)` });
      }
      if ('batchSize' in alg && alg.batchSize !== undefined && alg.batchSize > data.n) {
        ctx.addIssue({ code: 'custom', path: ['algorithm', 'batchSize'], message: `${alg.batchSize} is over n = ${data.n}` });
      }
    }
  });

/** Algorithms for multi-block bilevel problems. */
export const BILEVEL_ALGORITHMS = ['bsvrb-v1', 'bsvrb-v2', 'stoch-bilevel'] as const;

type BilevelProblem = z.infer<typeof mbboQuadratic> | z.infer<typeof mbboRidge> | z.infer<typeof mbboHyperclean>;

/** Block dimensions of a bilevel problem: blocks m, upper d, lower d_y, stored numbers per block. */
export function bilevelShape(p: BilevelProblem): { m: number; d: number; dy: number; perBlock: number } {
  if (p.kind === 'mbbo-quadratic') {
    const d = p.data;
    return { m: d.m, d: d.d, dy: d.dy, perBlock: d.n * (d.dy + d.d + 1) + d.nf * (d.dy + 1) };
  }
  if (p.kind === 'mbbo-hyperclean') {
    // One shared data set per shard; nothing per block.
    const d = p.data;
    return { m: d.m, d: d.nTrain, dy: d.features + 1, perBlock: 0 };
  }
  const d = p.data;
  return { m: d.m, d: d.d, dy: d.d, perBlock: (d.n + d.nv) * (d.d + 1) };
}

function refineBilevel(problem: BilevelProblem, alg: z.infer<typeof jobAlgorithm>, shards: number | undefined, ctx: z.RefinementCtx): void {
  if (alg.name !== 'bsvrb-v1' && alg.name !== 'bsvrb-v2' && alg.name !== 'stoch-bilevel') {
    ctx.addIssue({
      code: 'custom',
      path: ['algorithm', 'name'],
      message: `${alg.name} is not a bilevel method; ${problem.kind} needs one of ${BILEVEL_ALGORITHMS.join(', ')}`,
    });
    return;
  }
  const { m, dy, perBlock } = bilevelShape(problem);
  if (problem.kind === 'mbbo-hyperclean') {
    const shared = (problem.data.nTrain + problem.data.nVal) * (dy + 1);
    if (shared * (shards ?? 1) > LIMITS.denseElements) {
      ctx.addIssue({
        code: 'custom',
        path: ['problem', 'data', 'nTrain'],
        message: `(nTrain + nVal)·(features + 2)·shards = ${shared * (shards ?? 1)} is over the limit of ${LIMITS.denseElements} stored elements`,
      });
    }
  }
  if (m * perBlock > LIMITS.denseElements) {
    ctx.addIssue({
      code: 'custom',
      path: ['problem', 'data', 'm'],
      message: `m·(numbers per block) = ${m * perBlock} is over the limit of ${LIMITS.denseElements} stored elements`,
    });
  }
  if (alg.name === 'bsvrb-v1' && m * 2 * dy * dy > LIMITS.denseElements) {
    ctx.addIssue({
      code: 'custom',
      path: ['algorithm', 'name'],
      message: `bsvrb-v1 keeps 2·m·d_y² = ${2 * m * dy * dy} Hessian numbers, over the limit of ${LIMITS.denseElements}: use bsvrb-v2`,
    });
  }
  if (alg.I > m) ctx.addIssue({ code: 'custom', path: ['algorithm', 'I'], message: `${alg.I} blocks per iteration is over m = ${m}` });
  if (shards !== undefined && shards > m)
    ctx.addIssue({ code: 'custom', path: ['shards'], message: `${shards} shards for only ${m} blocks (at most m)` });
  if (alg.name === 'bsvrb-v1' && alg.hMin !== undefined && alg.hMax !== undefined && alg.hMin >= alg.hMax) {
    ctx.addIssue({ code: 'custom', path: ['algorithm', 'hMax'], message: `${alg.hMax} must be > hMin = ${alg.hMin}` });
  }
}

/** Algorithms for operator problems (find u with F(u) = 0); the others minimise a loss. */
export const OPERATOR_ALGORITHMS = ['halpern', 'vr-halpern', 'vr-halpern-forb', 'eg', 'eag'] as const;

/** A validated job spec with every default filled in. */
export type JobSpec = z.infer<typeof jobSpecSchema>;
export type JobSpecInput = z.input<typeof jobSpecSchema>;
export type SyntheticDataSpec = z.infer<typeof syntheticData>;
export type BilinearDataSpec = z.infer<typeof bilinearData>;
export type ProblemSpec = JobSpec['problem'];
export type BilevelProblemSpec = BilevelProblem;
export type FileDataSpec = z.infer<typeof fileData>;
export type AlgorithmSpec = JobSpec['algorithm'];
export type GraphTokenSpec = Extract<ProblemSpec, { kind: 'graph-token' }>;
export type SaSrrwSpec = Extract<AlgorithmSpec, { name: 'sa-srrw' }>;

function formatPath(path: readonly PropertyKey[]): string {
  let out = 'spec';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => `${at === 'spec' ? 'spec' : at}.${k}: unknown field`).join('; ');
    case 'too_small':
      return `${at}: must be ${issue.inclusive === false ? '>' : '≥'} ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : ''}`;
    case 'too_big':
      return `${at}: must be ${issue.inclusive === false ? '<' : '≤'} ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : ''} (documented limit)`;
    case 'invalid_type':
      return `${at}: expected ${issue.expected}${issue.input === undefined ? ' (missing)' : `, got ${describeValue(issue.input)}`}`;
    default:
      return `${at}: ${issue.message}`;
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return typeof v === 'object' ? 'object' : `${typeof v} ${String(v)}`;
}

/** Validates an already-parsed value; throws INVALID_ARGUMENT listing every problem by field path. */
export function validateJobSpec(value: unknown): JobSpec {
  const r = jobSpecSchema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  throw invalidArgument(`invalid job spec: ${r.error.issues.map(describeIssue).join('; ')}`);
}

/** Parses YAML or JSON text (JSON is YAML) and validates it. */
export function parseJobSpec(text: string, source = 'spec'): JobSpec {
  if (Buffer.byteLength(text, 'utf8') > LIMITS.specBytes) {
    throw invalidArgument(`${source}: ${Buffer.byteLength(text, 'utf8')} bytes is over the limit of ${LIMITS.specBytes}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100, prettyErrors: true });
  } catch (e) {
    throw invalidArgument(`${source}: not valid YAML/JSON: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidArgument(`${source}: expected a mapping at the top level`);
  }
  return validateJobSpec(value);
}

/** Default shard count for a job whose data has `rows` rows: about 16k rows a shard, 1..256. */
export function defaultShardCount(rows: number): number {
  return Math.max(1, Math.min(256, Math.ceil(rows / 16384)));
}
