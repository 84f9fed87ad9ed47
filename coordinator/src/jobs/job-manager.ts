/**
 * Job lifecycle: QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED. Every submitted job ends in
 * one of the terminal states with a recorded reason; nothing is dropped silently.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ERROR_CODES, OptfleetError, toOptfleetError, type ErrorValue, type JobSpec } from '@optfleet/proto';
import type { Cluster } from '../cluster/cluster.js';
import { noopCoordinatorMetrics, type CoordinatorMetrics } from '../metrics.js';
import type { JobResultDoc, JobStatus, Recovery } from './result.js';
import { runJob, shardCountFor, type RunOutcome, type RunProgress } from './runner.js';
import type { RebalanceEvent } from '../cluster/cluster.js';
import { specJsonOf, type Checkpoint, type CheckpointStore } from './checkpoint.js';

export interface JobRecord {
  readonly id: string;
  readonly name: string;
  /** Absent only for a submission rejected before it had a valid spec (recordRejected). */
  readonly spec?: JobSpec;
  state: JobStatus;
  error?: ErrorValue;
  progress?: RunProgress;
  readonly createdAtMs: number;
  finishedAtMs?: number;
  result?: JobResultDoc;
}

export interface JobEvent {
  readonly job: JobRecord;
  readonly kind: 'state' | 'progress';
}

export interface ClusterLease {
  readonly cluster: Cluster;
  readonly workers: number;
  readonly transport: string;
}

export interface JobManagerOptions {
  /**
   * Builds a cluster for a job once workers are available (may wait; rejects to fail the job).
   * `recovery`: a worker was lost mid-job — use whoever is left now, without waiting.
   */
  clusterFor(spec: JobSpec, signal: AbortSignal, o?: { recovery: boolean }): Promise<ClusterLease>;
  /** Structured logs (level, message, fields with job id and round). @default no-op */
  log?: JobLog;
  /** @default noopCoordinatorMetrics */
  metrics?: CoordinatorMetrics;
  /**
   * Checkpoint running jobs every `everySeconds` into `store`, and resume a job from its
   * checkpoint when it is run again (a restarted coordinator getting it back from the job queue).
   */
  checkpoints?: { readonly store: CheckpointStore; readonly everySeconds: number };
}

export type JobLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** Worker losses a job survives (each resumes from its last checkpoint, or round 0) before it fails. */
export const MAX_RECOVERIES = 3;

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly listeners = new Map<string, Set<(e: JobEvent) => void>>();
  private readonly done = new Map<string, Promise<JobResultDoc>>();

  private readonly metrics: CoordinatorMetrics;

  private shuttingDown = false;

  constructor(private readonly o: JobManagerOptions) {
    this.metrics = o.metrics ?? noopCoordinatorMetrics;
  }

  /**
   * The coordinator is going away: jobs that end from now on (their workers gone, their cluster
   * closed) keep their checkpoints, so the next coordinator resumes them.
   */
  shutdown(): void {
    this.shuttingDown = true;
  }

  /** A checkpoint of this job that matches its spec, or null (a bad or stale one is logged and dropped). */
  private async loadCheckpoint(id: string, spec: JobSpec): Promise<Checkpoint | null> {
    const store = this.o.checkpoints?.store;
    if (store === undefined) return null;
    try {
      const cp = await store.load(id);
      if (cp === null) return null;
      if (cp.specJson !== specJsonOf(spec)) {
        this.o.log?.('warn', 'checkpoint ignored: it is of another spec under the same job id', { job: id });
        await store.remove(id);
        return null;
      }
      return cp;
    } catch (e) {
      this.o.log?.('warn', 'checkpoint unreadable; starting from round 0', { job: id, error: toOptfleetError(e).message });
      return null;
    }
  }

  /** Jobs by state, for metrics. */
  countByState(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const j of this.jobs.values()) out[j.state] = (out[j.state] ?? 0) + 1;
    return out;
  }

  /** Accepts a validated spec and starts it. A duplicate id is ALREADY_EXISTS. */
  submit(spec: JobSpec, id?: string): JobRecord {
    const jobId = id !== undefined && id !== '' ? id : `${spec.name}-${randomUUID().slice(0, 8)}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(jobId)) {
      throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, `jobId: "${jobId}" must be 1-128 letters, digits, ".", "_" or "-"`);
    }
    if (this.jobs.has(jobId)) throw new OptfleetError(ERROR_CODES.ALREADY_EXISTS, `job ${jobId} already exists`);
    const rec = { id: jobId, name: spec.name, spec, state: 'QUEUED' as JobStatus, createdAtMs: Date.now() } as JobRecord & {
      readonly spec: JobSpec;
    };
    this.jobs.set(jobId, rec);
    const ac = new AbortController();
    this.aborts.set(jobId, ac);
    this.done.set(jobId, this.execute(rec, ac.signal));
    return rec;
  }

  /**
   * Records a submission that could not be accepted (e.g. a queued spec that does not validate)
   * as a FAILED job with the reason, so nothing submitted disappears silently.
   */
  recordRejected(id: string, error: OptfleetError): JobRecord {
    const existing = this.jobs.get(id);
    if (existing !== undefined) return existing;
    const rec: JobRecord = { id, name: id, state: 'FAILED', error: error.toWire(), createdAtMs: Date.now(), finishedAtMs: Date.now() };
    this.jobs.set(id, rec);
    this.metrics.jobEnded(id, 'FAILED');
    this.done.set(
      id,
      Promise.resolve({
        status: 'FAILED',
        error: error.toWire(),
        job: { id, name: id },
        cluster: { transport: 'none', workers: 0, shards: 0, rows: 0, features: 0 },
        history: [],
      }),
    );
    this.emit(rec, 'state');
    return rec;
  }

  get(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (j === undefined) throw new OptfleetError(ERROR_CODES.NOT_FOUND, `job ${id} not found`);
    return j;
  }

  list(): JobRecord[] {
    return [...this.jobs.values()].sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  /** Requests cancellation; the job ends CANCELLED at its next round boundary. */
  cancel(id: string): JobRecord {
    const j = this.get(id);
    if (!TERMINAL.has(j.state)) this.aborts.get(id)?.abort();
    return j;
  }

  /** The job's result once it ends (never rejects). */
  wait(id: string): Promise<JobResultDoc> {
    this.get(id);
    return this.done.get(id)!;
  }

  /** Subscribes to a job's events; returns the unsubscribe function. */
  watch(id: string, fn: (e: JobEvent) => void): () => void {
    this.get(id);
    let set = this.listeners.get(id);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(id, set);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  private emit(rec: JobRecord, kind: JobEvent['kind']): void {
    for (const fn of this.listeners.get(rec.id) ?? []) {
      try {
        fn({ job: rec, kind });
      } catch {
        // A broken watcher must not break the job.
      }
    }
  }

  private async execute(rec: JobRecord & { readonly spec: JobSpec }, signal: AbortSignal): Promise<JobResultDoc> {
    const spec = rec.spec;
    let lease: ClusterLease | undefined;
    let clusterInfo: JobResultDoc['cluster'] = { transport: 'none', workers: 0, shards: 0, rows: 0, features: 0 };
    let doc: JobResultDoc;
    const recoveries: Recovery[] = [];
    const rebalances: RebalanceEvent[] = [];
    try {
      await Promise.resolve();
      lease = await this.o.clusterFor(spec, signal);
      if (signal.aborted) throw new OptfleetError(ERROR_CODES.CANCELLED, 'job cancelled');
      rec.state = 'RUNNING';
      this.emit(rec, 'state');
      this.o.log?.('info', 'job running', { job: rec.id, workers: lease.workers, transport: lease.transport });
      const data = spec.problem.kind === 'graph-token' ? undefined : spec.problem.data;
      const fileBytes =
        data?.source === 'file'
          ? await stat(data.path).then(
              (s) => s.size,
              () => undefined,
            )
          : undefined;
      let workers = lease.workers;
      let transport = lease.transport;
      let resume = await this.loadCheckpoint(rec.id, spec);
      // A resumed job keeps the shard count it started with (a data file may have changed size).
      const shardCount = resume?.shardCount ?? shardCountFor(spec, fileBytes);
      if (resume !== null) this.o.log?.('info', 'job resumed from a checkpoint', { job: rec.id, round: resume.runner.rounds });
      const cp = this.o.checkpoints;
      let outcome: RunOutcome;
      for (;;) {
        let lastRound = resume?.runner.rounds ?? 0;
        try {
          outcome = await runJob(rec.id, spec, lease.cluster, shardCount, {
            signal,
            ...(cp === undefined
              ? {}
              : {
                  checkpoint: {
                    store: cp.store,
                    everySeconds: cp.everySeconds,
                    resume,
                    onSaved: (round, bytes, seconds) => {
                      this.metrics.checkpoint?.({ bytes, seconds });
                      this.o.log?.('debug', 'checkpoint saved', { job: rec.id, round, stateBytes: bytes, seconds });
                    },
                  },
                }),
            onLayout: (l) => (clusterInfo = { transport, workers, shards: l.shardCount, rows: l.rows, features: l.cols }),
            onProgress: (p) => {
              rec.progress = p;
              this.metrics.jobProgress(rec.id, p);
              this.o.log?.('debug', 'progress', {
                job: rec.id,
                round: p.round,
                iteration: p.iteration,
                objective: p.objective,
                gradNorm: p.gradNorm,
              });
              this.emit(rec, 'progress');
            },
            onRound: (r) => {
              lastRound++;
              this.metrics.round({ ...r, jobId: rec.id, transport });
            },
          });
          break;
        } catch (e) {
          // A worker died mid-job: its shards' sticky state is gone, but the last checkpoint (or
          // round 0) is not. Go on from there on the workers that are left — the result is the
          // same bits, only the rounds since the checkpoint are run twice.
          const err = toOptfleetError(e);
          if (err.code !== ERROR_CODES.WORKER_LOST || signal.aborted || this.shuttingDown || recoveries.length >= MAX_RECOVERIES) throw e;
          rebalances.push(...(lease.cluster.rebalances?.() ?? []));
          await lease.cluster.close().catch(() => undefined);
          lease = undefined;
          lease = await this.o.clusterFor(spec, signal, { recovery: true }).catch((why: unknown) => {
            throw new OptfleetError(
              ERROR_CODES.WORKER_LOST,
              `${err.message}; no worker left to resume on (${toOptfleetError(why).message})`,
            );
          });
          workers = lease.workers;
          transport = lease.transport;
          resume = cp === undefined ? null : await this.loadCheckpoint(rec.id, spec);
          const from = resume?.runner.rounds ?? 0;
          recoveries.push({ lostAtRound: lastRound, error: err.message, resumedFromRound: from, workers });
          this.metrics.recovery?.(lastRound - from);
          this.o.log?.('warn', 'worker lost mid-job; resuming on the remaining workers', {
            job: rec.id,
            error: err.message,
            lostAtRound: lastRound,
            resumedFromRound: from,
            workers,
          });
        }
      }
      doc = {
        status: 'SUCCEEDED',
        job: { id: rec.id, name: rec.name, spec },
        cluster: clusterInfo,
        ...(outcome.resumedFrom === undefined ? {} : { resumedFrom: outcome.resumedFrom }),
        ...(recoveries.length === 0 ? {} : { recoveries }),
        final: outcome.final,
        history: outcome.history,
      };
    } catch (e) {
      const err = toOptfleetError(e);
      const status: JobStatus = err.code === ERROR_CODES.CANCELLED ? 'CANCELLED' : 'FAILED';
      rec.error = err.toWire();
      doc = {
        status,
        error: err.toWire(),
        job: { id: rec.id, name: rec.name, spec },
        cluster: clusterInfo,
        ...(recoveries.length === 0 ? {} : { recoveries }),
        history: [],
      };
      this.o.log?.(status === 'CANCELLED' ? 'info' : 'warn', 'job ended', {
        job: rec.id,
        status,
        code: err.code,
        message: err.message,
        round: rec.progress?.round,
      });
    } finally {
      await lease?.cluster.close().catch(() => undefined);
    }
    if (!this.shuttingDown) {
      await this.o.checkpoints?.store.remove(rec.id).catch((e: unknown) => {
        this.o.log?.('warn', "could not remove a finished job's checkpoint", { job: rec.id, error: String(e) });
      });
    }
    rebalances.push(...(lease?.cluster.rebalances?.() ?? []));
    if (rebalances.length > 0) doc = { ...doc, cluster: { ...doc.cluster, rebalances: [...rebalances] } };
    rec.state = doc.status;
    rec.result = doc;
    this.metrics.jobEnded(rec.id, doc.status);
    if (doc.status === 'SUCCEEDED') this.o.log?.('info', 'job ended', { job: rec.id, status: doc.status, round: doc.final?.rounds });
    rec.finishedAtMs = Date.now();
    this.aborts.delete(rec.id);
    this.emit(rec, 'state');
    return doc;
  }
}
