/**
 * A coordinator: job manager + worker registry + gRPC server. Jobs wait (QUEUED) until at least
 * `minWorkers` workers are live, then run on every live worker.
 */
import { ERROR_CODES, OptfleetError } from '@optfleet/proto';
import { ShardedCluster } from './cluster/sharded-cluster.js';
import { MemoryCheckpointStore, type CheckpointStore } from './jobs/checkpoint.js';
import { JobManager } from './jobs/job-manager.js';
import { noopCoordinatorMetrics, type CoordinatorMetricSources, type CoordinatorMetrics } from './metrics.js';
import { startGrpcServer, type GrpcServerHandle } from './transport/grpc/server.js';
import { WorkerRegistry, type WorkerRegistryOptions } from './transport/grpc/worker-registry.js';
import { NatsWorkerRegistry } from './transport/nats/registry.js';
import { JobQueueConsumer } from './transport/nats/job-queue.js';
import { NatsCheckpointStore } from './transport/nats/checkpoint-store.js';
import type { RemoteWorker } from './transport/grpc/remote-worker.js';

export interface CoordinatorOptions extends WorkerRegistryOptions {
  /** host:port to listen on (port 0 picks a free one). @default '127.0.0.1:7070' */
  listen?: string;
  /** Workers a job waits for before it starts. @default 1 */
  minWorkers?: number;
  /**
   * Checkpoint running jobs this often (seconds; 0 = every round boundary, null = never): a job
   * whose worker dies resumes from its last checkpoint on the others, and with NATS a restarted
   * coordinator resumes it too. @default 30
   */
  checkpointIntervalS?: number | null;
  /** Builds the metrics once the job manager and registry exist (for scrape-time sources). @default no-op */
  metrics?: (sources: CoordinatorMetricSources) => CoordinatorMetrics;
  /** Also accept workers over NATS (membership in the deployment's JetStream KV bucket) and run jobs from the deployment's JetStream job queue. */
  nats?: {
    url: string;
    prefix?: string;
    /**
     * Keep checkpoints in the deployment's object store (they outlive this coordinator, so a
     * restarted one resumes its jobs); false keeps them in memory. @default true
     */
    durableCheckpoints?: boolean;
    /** How long a queued job's message may go unacknowledged before JetStream redelivers it (a crashed coordinator's jobs come back after this). @default 30000 */
    queueAckWaitMs?: number;
  };
}

export interface CoordinatorHandle {
  readonly jobs: JobManager;
  /** gRPC-connected workers. */
  readonly registry: WorkerRegistry;
  /** NATS-connected workers, when `nats` was given. */
  readonly natsRegistry: NatsWorkerRegistry | undefined;
  /** Live workers over every transport, in registration order per transport. */
  liveWorkers(): RemoteWorker[];
  /** Live workers that are not draining (the ones that may take shards). */
  eligibleWorkers(): RemoteWorker[];
  /** Resolves once at least `count` workers are live and not draining (rejects on abort). */
  waitForWorkers(count: number, signal?: AbortSignal): Promise<RemoteWorker[]>;
  readonly server: GrpcServerHandle;
  close(graceMs?: number): Promise<void>;
}

export async function startCoordinator(o: CoordinatorOptions = {}): Promise<CoordinatorHandle> {
  let metrics: CoordinatorMetrics = noopCoordinatorMetrics;
  const registry = new WorkerRegistry({ ...o, onWorkerLost: () => metrics.workerLost() });
  let natsRegistry: NatsWorkerRegistry | undefined;
  if (o.nats !== undefined) {
    try {
      natsRegistry = await NatsWorkerRegistry.start({
        url: o.nats.url,
        ...(o.nats.prefix === undefined ? {} : { prefix: o.nats.prefix }),
        ...(o.heartbeatTimeoutMs === undefined ? {} : { heartbeatTimeoutMs: o.heartbeatTimeoutMs }),
        ...(o.log === undefined ? {} : { log: o.log }),
        onWorkerLost: () => metrics.workerLost(),
      });
    } catch (e) {
      registry.close();
      throw e;
    }
  }
  const liveWorkers = (): RemoteWorker[] => [...registry.live(), ...(natsRegistry?.live() ?? [])];
  // Workers that may take shards: live and not draining. Jobs read this at every round boundary.
  const eligibleWorkers = (): RemoteWorker[] => liveWorkers().filter((w) => !w.draining);
  const waitForWorkers = async (count: number, signal?: AbortSignal): Promise<RemoteWorker[]> => {
    for (;;) {
      const live = eligibleWorkers();
      if (live.length >= count) return live;
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const transportOf = (ws: RemoteWorker[]): string => {
    const nats = ws.filter((w) => natsRegistry?.live().includes(w) === true).length;
    return nats === 0 ? 'grpc' : nats === ws.length ? 'nats' : 'mixed';
  };
  const minWorkers = o.minWorkers ?? 1;
  let checkpoints: NatsCheckpointStore | undefined;
  const checkpointIntervalS = o.checkpointIntervalS === undefined ? 30 : o.checkpointIntervalS;
  if (o.nats !== undefined && checkpointIntervalS !== null && o.nats.durableCheckpoints !== false) {
    try {
      checkpoints = await NatsCheckpointStore.open(o.nats.url, o.nats.prefix ?? 'default');
    } catch (e) {
      registry.close();
      await natsRegistry?.close();
      throw e;
    }
  }
  const store: CheckpointStore | undefined = checkpointIntervalS === null ? undefined : (checkpoints ?? new MemoryCheckpointStore());
  const jobs = new JobManager({
    ...(store === undefined || checkpointIntervalS === null ? {} : { checkpoints: { store, everySeconds: checkpointIntervalS } }),
    ...(o.log === undefined ? {} : { log: o.log }),
    metrics: {
      round: (r) => metrics.round(r),
      jobProgress: (id, p) => metrics.jobProgress(id, p),
      jobEnded: (id, s) => metrics.jobEnded(id, s),
      workerLost: () => metrics.workerLost(),
      rebalance: (e) => metrics.rebalance(e),
      checkpoint: (e) => metrics.checkpoint?.(e),
      recovery: (n) => metrics.recovery?.(n),
    },
    clusterFor: async (_spec, signal, how) => {
      const workers = how?.recovery === true ? eligibleWorkers() : await waitForWorkers(minWorkers, signal);
      if (workers.length === 0) throw new OptfleetError(ERROR_CODES.WORKER_LOST, 'no live workers');
      // Elastic: the cluster re-reads the eligible workers at every round boundary and moves
      // shards when one joins or drains.
      const cluster = new ShardedCluster(
        { eligible: eligibleWorkers },
        { onRebalance: (e) => metrics.rebalance(e), ...(o.log === undefined ? {} : { log: o.log }) },
      );
      return { cluster, workers: workers.length, transport: transportOf(workers) };
    },
  });
  let queue: JobQueueConsumer | undefined;
  if (o.nats !== undefined) {
    try {
      queue = await JobQueueConsumer.start(o.nats.url, o.nats.prefix ?? 'default', jobs, o.log, o.nats.queueAckWaitMs);
    } catch (e) {
      registry.close();
      await natsRegistry?.close();
      await checkpoints?.close();
      throw e;
    }
  }
  if (o.metrics !== undefined)
    metrics = o.metrics({
      jobsByState: () => jobs.countByState(),
      workersLive: () => liveWorkers().length,
      workersDraining: () => liveWorkers().filter((w) => w.draining).length,
    });
  let server: GrpcServerHandle;
  try {
    server = await startGrpcServer(o.listen ?? '127.0.0.1:7070', jobs, registry, () => [
      ...registry.live().map((worker) => ({ worker, transport: 'grpc' as const })),
      ...(natsRegistry?.live() ?? []).map((worker) => ({ worker, transport: 'nats' as const })),
    ]);
  } catch (e) {
    registry.close();
    await natsRegistry?.close();
    await queue?.close();
    await checkpoints?.close();
    throw e;
  }
  return {
    jobs,
    registry,
    natsRegistry,
    liveWorkers,
    eligibleWorkers,
    waitForWorkers,
    server,
    async close(graceMs = 1000) {
      // Jobs cut short by the shutdown keep their checkpoints and stay unacknowledged in the queue,
      // so the next coordinator resumes them.
      jobs.shutdown();
      await queue?.close();
      registry.close();
      await natsRegistry?.close();
      await server.shutdown(graceMs);
      await checkpoints?.close();
    },
  };
}
