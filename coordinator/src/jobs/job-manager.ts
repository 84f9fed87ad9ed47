/**
 * Job lifecycle: QUEUED → RUNNING → SUCCEEDED | FAILED | CANCELLED. Every submitted job ends in
 * one of the terminal states with a recorded reason; nothing is dropped silently.
 */
import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { ERROR_CODES, OptfleetError, toOptfleetError, type ErrorValue, type JobSpec } from '@optfleet/proto';
import type { Cluster } from '../cluster/cluster.js';
import { noopCoordinatorMetrics, type CoordinatorMetrics } from '../metrics.js';
import type { JobResultDoc, JobStatus } from './result.js';
import { runJob, shardCountFor, type RunProgress } from './runner.js';

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
  /** Builds a cluster for a job once workers are available (may wait; rejects to fail the job). */
  clusterFor(spec: JobSpec, signal: AbortSignal): Promise<ClusterLease>;
  /** Structured logs (level, message, fields with job id and round). @default no-op */
  log?: JobLog;
  /** @default noopCoordinatorMetrics */
  metrics?: CoordinatorMetrics;
}

export type JobLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

export class JobManager {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly aborts = new Map<string, AbortController>();
  private readonly listeners = new Map<string, Set<(e: JobEvent) => void>>();
  private readonly done = new Map<string, Promise<JobResultDoc>>();

  private readonly metrics: CoordinatorMetrics;

  constructor(private readonly o: JobManagerOptions) {
    this.metrics = o.metrics ?? noopCoordinatorMetrics;
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
      const shardCount = shardCountFor(spec, fileBytes);
      const workers = lease.workers;
      const transport = lease.transport;
      const outcome = await runJob(rec.id, spec, lease.cluster, shardCount, {
        signal,
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
        onRound: (r) => this.metrics.round({ ...r, jobId: rec.id, transport }),
      });
      doc = {
        status: 'SUCCEEDED',
        job: { id: rec.id, name: rec.name, spec },
        cluster: clusterInfo,
        final: outcome.final,
        history: outcome.history,
      };
    } catch (e) {
      const err = toOptfleetError(e);
      const status: JobStatus = err.code === ERROR_CODES.CANCELLED ? 'CANCELLED' : 'FAILED';
      rec.error = err.toWire();
      doc = { status, error: err.toWire(), job: { id: rec.id, name: rec.name, spec }, cluster: clusterInfo, history: [] };
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
