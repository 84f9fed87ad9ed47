/**
 * Coordinator metrics. Code depends on the small `CoordinatorMetrics` interface (no-op by
 * default); the prom-client implementation is built by the composition root with its registry.
 *
 * Label budget (every long-lived series): `op` (4 ops), `transport` (inprocess|grpc), `purpose`
 * (algorithm|evaluation), `state` (job states; worker live|lost), `status` (job end states).
 * `job_id` appears only on the optfleet_job_* series, which are removed when the job ends.
 * Never shard, sample, token or worker ids.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { OPS } from '@optfleet/proto';

export interface RoundObservation {
  readonly jobId: string;
  readonly op: string;
  readonly transport: string;
  readonly purpose: 'algorithm' | 'evaluation';
  readonly seconds: number;
  readonly oracleCalls: number;
  readonly bytesOut: number;
  readonly bytesIn: number;
}

export interface JobProgressObservation {
  readonly objective: number;
  readonly gradNorm: number;
  readonly fraction: number;
}

export interface CoordinatorMetrics {
  round(o: RoundObservation): void;
  jobProgress(jobId: string, p: JobProgressObservation): void;
  /** A job reached a terminal state: count it and drop its per-job series. */
  jobEnded(jobId: string, status: string): void;
  workerLost(): void;
  /** Shards moved at a round boundary because a worker joined or is draining. */
  rebalance(e: { readonly shardsMoved: number; readonly stateBytes: number; readonly seconds: number }): void;
  /** A job checkpoint was saved. */
  checkpoint?(e: { readonly bytes: number; readonly seconds: number }): void;
  /** A job survived a worker loss by resuming elsewhere; `roundsRedone` rounds run again. */
  recovery?(roundsRedone: number): void;
}

export const noopCoordinatorMetrics: CoordinatorMetrics = {
  round: () => undefined,
  jobProgress: () => undefined,
  jobEnded: () => undefined,
  workerLost: () => undefined,
  rebalance: () => undefined,
};

/** Live numbers read at scrape time. */
export interface CoordinatorMetricSources {
  jobsByState(): Record<string, number>;
  workersLive(): number;
  /** Live workers that announced they are leaving (SIGTERM) and are handing back their shards. */
  workersDraining(): number;
}

export const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;

/** Round latency buckets: 50 µs (in-process) to 30 s (huge full passes). */
export const ROUND_BUCKETS = [5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createPromCoordinatorMetrics(registry: Registry, sources: CoordinatorMetricSources): CoordinatorMetrics {
  const reg = [registry];
  new Gauge({
    name: 'optfleet_jobs',
    help: 'Jobs known to the coordinator, by state.',
    labelNames: ['state'],
    registers: reg,
    collect() {
      const by = sources.jobsByState();
      for (const s of JOB_STATES) this.set({ state: s }, by[s] ?? 0);
    },
  });
  const finished = new Counter({
    name: 'optfleet_jobs_finished_total',
    help: 'Jobs that reached a terminal state, by status.',
    labelNames: ['status'],
    registers: reg,
  });
  const rounds = new Counter({
    name: 'optfleet_rounds_total',
    help: 'Cluster rounds run, by op and transport.',
    labelNames: ['op', 'transport'],
    registers: reg,
  });
  const duration = new Histogram({
    name: 'optfleet_round_duration_seconds',
    help: 'Wall time of one cluster round (send, compute on the workers, reduce), by op and transport.',
    labelNames: ['op', 'transport'],
    buckets: ROUND_BUCKETS,
    registers: reg,
  });
  const oracle = new Counter({
    name: 'optfleet_oracle_calls_total',
    help: 'Component gradient evaluations, by purpose (algorithm or evaluation-only).',
    labelNames: ['purpose'],
    registers: reg,
  });
  const sent = new Counter({
    name: 'optfleet_transport_sent_bytes_total',
    help: 'Tensor bytes sent to workers, by transport.',
    labelNames: ['transport'],
    registers: reg,
  });
  const received = new Counter({
    name: 'optfleet_transport_received_bytes_total',
    help: 'Tensor bytes received from workers, by transport.',
    labelNames: ['transport'],
    registers: reg,
  });
  new Gauge({
    name: 'optfleet_workers',
    help: 'Workers by state: live (registered and heartbeating, draining ones included), draining (leaving after SIGTERM).',
    labelNames: ['state'],
    registers: reg,
    collect() {
      this.set({ state: 'live' }, sources.workersLive());
      this.set({ state: 'draining' }, sources.workersDraining());
    },
  });
  const lost = new Counter({
    name: 'optfleet_workers_lost_total',
    help: 'Workers that disconnected or missed heartbeats.',
    registers: reg,
  });
  const retries = new Counter({
    name: 'optfleet_task_retries_total',
    help: 'Rounds run again on other workers after a worker was lost mid-job (those since the last checkpoint).',
    registers: reg,
  });
  const recoveries = new Counter({
    name: 'optfleet_job_recoveries_total',
    help: 'Worker losses a job survived by resuming from its last checkpoint on the remaining workers.',
    registers: reg,
  });
  const checkpoints = new Counter({
    name: 'optfleet_checkpoints_total',
    help: "Job checkpoints saved (driver state, counters and every shard's sticky state).",
    registers: reg,
  });
  const checkpointBytes = new Counter({
    name: 'optfleet_checkpoint_state_bytes_total',
    help: 'Sticky shard-state bytes written by job checkpoints.',
    registers: reg,
  });
  const rebalances = new Counter({
    name: 'optfleet_rebalances_total',
    help: 'Round boundaries at which shards moved because a worker joined or started draining.',
    registers: reg,
  });
  const moves = new Counter({ name: 'optfleet_shard_moves_total', help: 'Shards moved between workers by rebalances.', registers: reg });
  const moveBytes = new Counter({
    name: 'optfleet_shard_move_state_bytes_total',
    help: 'Sticky per-shard state bytes moved between workers by rebalances.',
    registers: reg,
  });
  const rebalanceTime = new Histogram({
    name: 'optfleet_rebalance_duration_seconds',
    help: 'Wall time of one rebalance (export state, rebuild shards on the new owners, release on the old ones).',
    buckets: [1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
    registers: reg,
  });

  const objective = new Gauge({
    name: 'optfleet_job_objective',
    help: 'Latest exact objective of a running job.',
    labelNames: ['job_id'],
    registers: reg,
  });
  const gradNorm = new Gauge({
    name: 'optfleet_job_grad_norm',
    help: 'Latest exact gradient norm (or operator residual) of a running job.',
    labelNames: ['job_id'],
    registers: reg,
  });
  const progress = new Gauge({
    name: 'optfleet_job_progress_ratio',
    help: 'Progress of a running job toward its stop criteria, 0..1.',
    labelNames: ['job_id'],
    registers: reg,
  });
  const jobRounds = new Counter({
    name: 'optfleet_job_rounds_total',
    help: 'Rounds run by a running job, by op.',
    labelNames: ['job_id', 'op'],
    registers: reg,
  });
  const jobCalls = new Counter({
    name: 'optfleet_job_oracle_calls_total',
    help: 'Oracle calls of a running job, by purpose.',
    labelNames: ['job_id', 'purpose'],
    registers: reg,
  });
  const jobRoundTime = new Counter({
    name: 'optfleet_job_round_duration_seconds_total',
    help: 'Total round wall time of a running job, by op (divide by optfleet_job_rounds_total for the mean).',
    labelNames: ['job_id', 'op'],
    registers: reg,
  });

  return {
    round(o) {
      rounds.inc({ op: o.op, transport: o.transport });
      duration.observe({ op: o.op, transport: o.transport }, o.seconds);
      oracle.inc({ purpose: o.purpose }, o.oracleCalls);
      sent.inc({ transport: o.transport }, o.bytesOut);
      received.inc({ transport: o.transport }, o.bytesIn);
      jobRounds.inc({ job_id: o.jobId, op: o.op });
      jobCalls.inc({ job_id: o.jobId, purpose: o.purpose }, o.oracleCalls);
      jobRoundTime.inc({ job_id: o.jobId, op: o.op }, o.seconds);
    },
    jobProgress(jobId, p) {
      if (Number.isFinite(p.objective)) objective.set({ job_id: jobId }, p.objective);
      if (Number.isFinite(p.gradNorm)) gradNorm.set({ job_id: jobId }, p.gradNorm);
      progress.set({ job_id: jobId }, p.fraction);
    },
    jobEnded(jobId, status) {
      finished.inc({ status });
      for (const m of [objective, gradNorm, progress]) m.remove({ job_id: jobId });
      // Series with more labels than job_id: remove every label combination of this job.
      for (const op of OPS) {
        jobRounds.remove({ job_id: jobId, op });
        jobRoundTime.remove({ job_id: jobId, op });
      }
      for (const purpose of ['algorithm', 'evaluation']) jobCalls.remove({ job_id: jobId, purpose });
    },
    workerLost() {
      lost.inc();
    },
    recovery(roundsRedone) {
      recoveries.inc();
      retries.inc(roundsRedone);
    },
    checkpoint(e) {
      checkpoints.inc();
      checkpointBytes.inc(e.bytes);
    },
    rebalance(e) {
      rebalances.inc();
      moves.inc(e.shardsMoved);
      moveBytes.inc(e.stateBytes);
      rebalanceTime.observe(e.seconds);
    },
  };
}
