/**
 * Worker metrics. Code depends on the small `WorkerMetrics` interface (no-op by default); the
 * prom-client implementation is built by the composition root with its registry. Pool numbers
 * are read from piscina on this (the event-loop) thread at scrape time, so what the pool threads
 * do reaches this process's registry; piscina's milliseconds are converted to seconds.
 *
 * Label budget: `op` (4 ops), `status` (ok|error), `backend` (cpu|gpu). No shard or job ids.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface WorkerMetrics {
  /** One round's work on this worker (all its shards for that round). */
  task(op: string, status: 'ok' | 'error', seconds: number): void;
}

export const noopWorkerMetrics: WorkerMetrics = { task: () => undefined };

export interface PoolSnapshot {
  readonly utilization: number;
  readonly queueSize: number;
  readonly threads: number;
  readonly completed: number;
  /** Mean run and wait time of pool tasks, milliseconds (piscina's unit). */
  readonly runTimeMeanMs: number;
  readonly waitTimeMeanMs: number;
}

export interface WorkerMetricSources {
  pool(): PoolSnapshot;
  holdings(): { shards: number; bytes: number };
  readonly backend: 'cpu' | 'gpu';
}

export const TASK_BUCKETS = [1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createPromWorkerMetrics(registry: Registry, sources: WorkerMetricSources): WorkerMetrics {
  const reg = [registry];
  const tasks = new Counter({
    name: 'optfleet_worker_tasks_total',
    help: 'Round tasks served (all of a round’s shards on this worker), by op and status.',
    labelNames: ['op', 'status'],
    registers: reg,
  });
  const duration = new Histogram({
    name: 'optfleet_worker_task_duration_seconds',
    help: 'Time to serve one round task on this worker, by op and status.',
    labelNames: ['op', 'status'],
    buckets: TASK_BUCKETS,
    registers: reg,
  });
  new Gauge({
    name: 'optfleet_worker_pool_utilization_ratio',
    help: 'Piscina pool utilization (0..1): share of capacity spent running tasks.',
    registers: reg,
    collect() {
      this.set(sources.pool().utilization);
    },
  });
  new Gauge({
    name: 'optfleet_worker_pool_queued_tasks',
    help: 'Tasks waiting in the piscina queue.',
    registers: reg,
    collect() {
      this.set(sources.pool().queueSize);
    },
  });
  new Gauge({
    name: 'optfleet_worker_pool_threads',
    help: 'Threads in the piscina pool.',
    registers: reg,
    collect() {
      this.set(sources.pool().threads);
    },
  });
  new Gauge({
    name: 'optfleet_worker_pool_run_time_mean_seconds',
    help: 'Mean run time of a pool task (piscina runTime, converted from ms).',
    registers: reg,
    collect() {
      this.set(sources.pool().runTimeMeanMs / 1000);
    },
  });
  new Gauge({
    name: 'optfleet_worker_pool_wait_time_mean_seconds',
    help: 'Mean queue wait of a pool task (piscina waitTime, converted from ms).',
    registers: reg,
    collect() {
      this.set(sources.pool().waitTimeMeanMs / 1000);
    },
  });
  let completedSeen = 0;
  new Counter({
    name: 'optfleet_worker_pool_tasks_completed_total',
    help: 'Tasks the piscina pool completed.',
    registers: reg,
    collect() {
      const c = sources.pool().completed;
      if (c > completedSeen) this.inc(c - completedSeen);
      completedSeen = Math.max(completedSeen, c);
    },
  });
  new Gauge({
    name: 'optfleet_worker_shards',
    help: 'Shards held by this worker (all jobs).',
    registers: reg,
    collect() {
      this.set(sources.holdings().shards);
    },
  });
  new Gauge({
    name: 'optfleet_worker_shard_bytes',
    help: 'Bytes of shard data and sticky shard state held by this worker.',
    registers: reg,
    collect() {
      this.set(sources.holdings().bytes);
    },
  });
  const backend = new Gauge({
    name: 'optfleet_worker_backend_info',
    help: 'Compute backend of this worker (the series with value 1).',
    labelNames: ['backend'],
    registers: reg,
  });
  backend.set({ backend: sources.backend }, 1);
  return {
    task(op, status, seconds) {
      tasks.inc({ op, status });
      duration.observe({ op, status }, seconds);
    },
  };
}
