/**
 * Documented size limits, enforced at every edge (job spec, data files, wire messages). The README
 * lists them; errors name the limit.
 */
export const LIMITS = {
  /** Rows of a job's data (synthetic n or a file's rows). */
  rows: 100_000_000,
  /** Feature columns d. */
  features: 10_000_000,
  /** Dense synthetic n·d elements (8 bytes each) across the job. */
  denseElements: 2_000_000_000,
  /** Shards per job. */
  shards: 4096,
  /** Elements in one tensor on the wire. */
  tensorElements: 1 << 27,
  /** Dimensions of one tensor. */
  tensorRank: 4,
  /** Largest gRPC message either side accepts, bytes. */
  messageBytes: 256 * 1024 * 1024,
  /** Job spec text, bytes. */
  specBytes: 1 << 20,
  /** Algorithm rounds a job may request. */
  maxRounds: 1_000_000_000,
  /** Wall-clock seconds a job may request (30 days). */
  maxSeconds: 30 * 24 * 3600,
  /** Mini-batch size. */
  batchSize: 10_000_000,
  /** Agents of a graph-token job (RGG nodes, or an edge list's distinct ids). */
  graphNodes: 1_000_000,
  /** graph-token logistic data N·B·d (the coordinator regenerates it all for θ* and the theory). */
  graphDataElements: 50_000_000,
  /** Tokens of a graph-token job (per α × α values). */
  tokens: 100_000,
  /** L-BFGS memory. */
  lbfgsMemory: 1000,
} as const;
