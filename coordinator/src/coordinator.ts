/**
 * A coordinator: job manager + worker registry + gRPC server. Jobs wait (QUEUED) until at least
 * `minWorkers` workers are live, then run on every live worker.
 */
import { ShardedCluster } from './cluster/sharded-cluster.js';
import { JobManager } from './jobs/job-manager.js';
import { startGrpcServer, type GrpcServerHandle } from './transport/grpc/server.js';
import { WorkerRegistry, type WorkerRegistryOptions } from './transport/grpc/worker-registry.js';

export interface CoordinatorOptions extends WorkerRegistryOptions {
  /** host:port to listen on (port 0 picks a free one). @default '127.0.0.1:7070' */
  listen?: string;
  /** Workers a job waits for before it starts. @default 1 */
  minWorkers?: number;
}

export interface CoordinatorHandle {
  readonly jobs: JobManager;
  readonly registry: WorkerRegistry;
  readonly server: GrpcServerHandle;
  close(graceMs?: number): Promise<void>;
}

export async function startCoordinator(o: CoordinatorOptions = {}): Promise<CoordinatorHandle> {
  const registry = new WorkerRegistry(o);
  const minWorkers = o.minWorkers ?? 1;
  const jobs = new JobManager({
    ...(o.log === undefined ? {} : { log: o.log }),
    clusterFor: async (_spec, signal) => {
      const workers = await registry.waitFor(minWorkers, signal);
      return { cluster: new ShardedCluster(workers), workers: workers.length, transport: 'grpc' };
    },
  });
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
