/**
 * @optfleet/coordinator — job lifecycle, the sharded-oracle cluster, algorithm drivers and the
 * gRPC services.
 *
 * ```ts
 * import { startCoordinator } from '@optfleet/coordinator';
 * const c = await startCoordinator({ listen: '127.0.0.1:7070' });
 * ```
 * @module
 */
export { startCoordinator } from './coordinator.js';
export { JobManager, TERMINAL } from './jobs/job-manager.js';
export { runJob, shardCountFor } from './jobs/runner.js';
export { MemoryCheckpointStore, encodeCheckpoint, decodeCheckpoint } from './jobs/checkpoint.js';
export type { Checkpoint, CheckpointStore, RunnerState } from './jobs/checkpoint.js';
export { ShardedCluster } from './cluster/sharded-cluster.js';
export { placeShards, rendezvousPlacement } from './cluster/placement.js';
export { staticMembership } from './cluster/cluster.js';
export { WorkerRegistry } from './transport/grpc/worker-registry.js';
export { NatsWorkerRegistry } from './transport/nats/registry.js';
export { JobQueueConsumer, submitToQueue, ensureJobStream, JOB_MAX_DELIVER } from './transport/nats/job-queue.js';
export { RemoteWorker } from './transport/grpc/remote-worker.js';
export { jobToMessage, toServiceError } from './transport/grpc/job-service.js';
export { createDriver } from './algorithms/registry.js';
export { SvrgDriver } from './algorithms/finite-sum/svrg/driver.js';
export { SgdDriver } from './algorithms/finite-sum/sgd/driver.js';
export { SagaDriver } from './algorithms/finite-sum/saga/driver.js';
export { HalpernDriver } from './algorithms/operator/halpern/driver.js';
export { VrHalpernDriver } from './algorithms/operator/vr-halpern/driver.js';
export { VrHalpernForbDriver } from './algorithms/operator/vr-halpern-forb/driver.js';
export { EgDriver } from './algorithms/operator/eg/driver.js';
export { EagDriver } from './algorithms/operator/eag/driver.js';
export { LbfgsDriver } from './algorithms/finite-sum/lbfgs/driver.js';
export { LsvrgDriver } from './algorithms/finite-sum/lsvrg/driver.js';
export { SarahDriver } from './algorithms/finite-sum/sarah/driver.js';
export { PageDriver } from './algorithms/finite-sum/page/driver.js';
export { fullObjective, norm2 } from './algorithms/finite-sum/objective.js';
export { SrrwDriver, tokenStart } from './algorithms/graph-token/driver.js';
export { SrrwTheory } from './algorithms/graph-token/theory.js';
export { graphObjective, densePattern } from './algorithms/graph-token/objective.js';
export { createPromCoordinatorMetrics, noopCoordinatorMetrics, JOB_STATES, ROUND_BUCKETS } from './metrics.js';

export type { CoordinatorOptions, CoordinatorHandle } from './coordinator.js';
export type { JobRecord, JobEvent, JobManagerOptions, ClusterLease } from './jobs/job-manager.js';
export type { RunProgress, RunHooks, RunOutcome } from './jobs/runner.js';
export type { JobResultDoc, JobStatus, HistoryEntry, FinalState, PerAlpha, Recovery } from './jobs/result.js';
export type { GraphObjective } from './algorithms/graph-token/objective.js';
export type {
  Cluster,
  JobLayout,
  RoundRequest,
  RoundResult,
  ShardSummary,
  WorkerEndpoint,
  Membership,
  RebalanceEvent,
} from './cluster/cluster.js';
export type { ShardedClusterOptions } from './cluster/sharded-cluster.js';
export type { Driver, Ask, Observation, ProblemInfo, DriverState } from './algorithms/driver.js';
export type { GrpcServerHandle } from './transport/grpc/server.js';
export type { CoordinatorMetrics, CoordinatorMetricSources, RoundObservation, JobProgressObservation } from './metrics.js';
export type { JobLog } from './jobs/job-manager.js';
export type { RoundInfo } from './jobs/runner.js';
