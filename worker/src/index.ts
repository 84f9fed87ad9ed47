/**
 * @optfleet/worker — a worker process: holds shards in SharedArrayBuffers, runs round ops on a
 * piscina pool, talks to the coordinator over one gRPC stream.
 *
 * ```ts
 * import { startWorker } from '@optfleet/worker';
 * const w = startWorker({ coordinator: '127.0.0.1:7070', threads: 2 });
 * await w.done;
 * ```
 * @module
 */
export { startWorker } from './worker.js';
export { ShardHost } from './shard-host.js';
export { DirectExecutor } from './executor.js';
export { PoolExecutor, resolvePoolOptions, balance, DEFAULT_INLINE_WORK } from './pool.js';
export { syntheticShard, syntheticRow, syntheticTruth } from './shards/synthetic.js';
export { readDataFile, parseDataText, sliceRows } from './shards/data-file.js';
export { lossGrad, gradDiff, maxRowNormSq } from './kernels/cpu/fused.js';
export { lossValue, lossSlope } from './kernels/cpu/losses.js';
export { connectWorkerChannel } from './transport/grpc/agent.js';
export { TASKS } from './tasks/index.js';
export { bilinearConstants, bilinearShard, bilinearLipschitz, spectralNorm } from './shards/bilinear.js';
export { policemanBurglar, matrixGameShard, readPayoffCsv, MAX_MATRIX_GAME } from './shards/matrix-game.js';
export { bilinearApply } from './kernels/cpu/bilinear.js';
export { droShard, droTruth } from './shards/dro.js';
export { walkToken, walkScratch, kernelRow } from './kernels/cpu/srrw-walk.js';
export { walkFixture, startToken, walkToEnd } from './kernels/cpu/srrw-fixture.js';
export { walkJob, walkShardData } from './shards/graph-token.js';
export { mbboShard, mbboProblem, mbboLipschitz, blockWidth, lowerStride, upperStride, hypercleanRows } from './shards/mbbo.js';
export { mbboStep, drawSamples } from './kernels/cpu/mbbo-step.js';
export { mbboEval, exactBlock } from './kernels/cpu/mbbo-eval.js';
export { cholesky, choleskySolve, jacobiEigen, projectSpectrum, projectionScratch } from './kernels/cpu/linalg.js';
export { createPromWorkerMetrics, noopWorkerMetrics, TASK_BUCKETS } from './metrics.js';

export type { WorkerOptions, WorkerHandle, DrainOutcome } from './worker.js';
export type { ShardSummary, RoundWork, ShardWorkItem } from './shard-host.js';
export type { OpExecutor } from './executor.js';
export type { PoolOptions } from './pool.js';
export type { ShardData, RowMatrix, DenseRows, CsrRows } from './shards/shard-data.js';
export type { ParsedDataFile, DataFileOptions } from './shards/data-file.js';
export type { LossKind } from './kernels/cpu/losses.js';
export type { BilinearGame } from './shards/bilinear.js';
export type { WalkGraph, WalkShard, WalkCounters } from './kernels/cpu/srrw-walk.js';
export type { WalkFixture } from './kernels/cpu/srrw-fixture.js';
export type { MbboProblem } from './shards/mbbo.js';
export type { TaskInput, TaskOutput, TaskFailure } from './tasks/protocol.js';
export type { ChannelEnd, GrpcAgentOptions } from './transport/grpc/agent.js';
export type { WorkerMetrics, WorkerMetricSources, PoolSnapshot } from './metrics.js';
