/**
 * A coordinator: job manager + worker registry + gRPC server. Jobs wait (QUEUED) until at least
 * `minWorkers` workers are live, then run on every live worker.
 */
import { ShardedCluster } from './cluster/sharded-cluster.js';
import { JobManager } from './jobs/job-manager.js';
import { noopCoordinatorMetrics, type CoordinatorMetricSources, type CoordinatorMetrics } from './metrics.js';
import { startGrpcServer, type GrpcServerHandle } from './transport/grpc/server.js';
import { WorkerRegistry, type WorkerRegistryOptions } from './transport/grpc/worker-registry.js';

export interface CoordinatorOptions extends WorkerRegistryOptions {
  /** host:port to listen on (port 0 picks a free one). @default '127.0.0.1:7070' */
  listen?: string;
  /** Workers a job waits for before it starts. @default 1 */
  minWorkers?: number;
  /** Builds the metrics once the job manager and registry exist (for scrape-time sources). @default no-op */
  metrics?: (sources: CoordinatorMetricSources) => CoordinatorMetrics;
}

export interface CoordinatorHandle {
  readonly jobs: JobManager;
  readonly registry: WorkerRegistry;
  readonly server: GrpcServerHandle;
  close(graceMs?: number): Promise<void>;
}

export async function startCoordinator(o: CoordinatorOptions = {}): Promise<CoordinatorHandle> {
  let metrics: CoordinatorMetrics = noopCoordinatorMetrics;
  const registry = new WorkerRegistry({ ...o, onWorkerLost: () => metrics.workerLost() });
  const minWorkers = o.minWorkers ?? 1;
  const jobs = new JobManager({
    ...(o.log === undefined ? {} : { log: o.log }),
    metrics: {
      round: (r) => metrics.round(r),
      jobProgress: (id, p) => metrics.jobProgress(id, p),
      jobEnded: (id, s) => metrics.jobEnded(id, s),
      workerLost: () => metrics.workerLost(),
    },
    clusterFor: async (_spec, signal) => {
      const workers = await registry.waitFor(minWorkers, signal);
      return { cluster: new ShardedCluster(workers), workers: workers.length, transport: 'grpc' };
    },
  });
  if (o.metrics !== undefined) metrics = o.metrics({ jobsByState: () => jobs.countByState(), workersLive: () => registry.live().length });
  let server: GrpcServerHandle;
  try {
    server = await startGrpcServer(o.listen ?? '127.0.0.1:7070', jobs, registry);
  } catch (e) {
    registry.close();
    throw e;
  }
  return {
    jobs,
    registry,
    server,
    async close(graceMs = 1000) {
      registry.close();
      await server.shutdown(graceMs);
    },
  };
}
