/**
 * The public JobService over gRPC. Bad input is INVALID_ARGUMENT with the field in the message;
 * unknown jobs NOT_FOUND; duplicate ids ALREADY_EXISTS.
 */
import { status, type ServerErrorResponse, type sendUnaryData } from '@grpc/grpc-js';
import {
  JobState,
  f64Tensor,
  parseJobSpec,
  toOptfleetError,
  type ErrorCode,
  type JobMessage,
  type JobServiceServer,
  type WorkerInfo,
} from '@optfleet/proto';
import type { RemoteWorker } from './remote-worker.js';
import type { JobManager, JobRecord } from '../../jobs/job-manager.js';
import { TERMINAL } from '../../jobs/job-manager.js';
import type { JobStatus } from '../../jobs/result.js';

const GRPC_STATUS: Record<ErrorCode, status> = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  ALREADY_EXISTS: status.ALREADY_EXISTS,
  FAILED_PRECONDITION: status.FAILED_PRECONDITION,
  WORKER_LOST: status.UNAVAILABLE,
  TASK_CRASHED: status.INTERNAL,
  DIVERGED: status.FAILED_PRECONDITION,
  CANCELLED: status.CANCELLED,
  DEADLINE_EXCEEDED: status.DEADLINE_EXCEEDED,
  INTERNAL: status.INTERNAL,
};

const STATE: Record<JobStatus, JobState> = {
  QUEUED: JobState.JOB_STATE_QUEUED,
  RUNNING: JobState.JOB_STATE_RUNNING,
  SUCCEEDED: JobState.JOB_STATE_SUCCEEDED,
  FAILED: JobState.JOB_STATE_FAILED,
  CANCELLED: JobState.JOB_STATE_CANCELLED,
};

/** gRPC status for an error; the optfleet code travels in the message prefix. */
export function toServiceError(e: unknown): ServerErrorResponse {
  const err = toOptfleetError(e);
  return Object.assign(new Error(err.message), { code: GRPC_STATUS[err.code], details: `${err.code}: ${err.message}` });
}

export function jobToMessage(j: JobRecord): JobMessage {
  const p = j.progress;
  const result = j.result;
  let resultJson = '';
  if (result !== undefined) {
    const { final, ...rest } = result;
    resultJson = JSON.stringify(final === undefined ? rest : { ...rest, final: { ...final, x: undefined } });
  }
  return {
    id: j.id,
    name: j.name,
    state: STATE[j.state],
    error: j.error,
    progress:
      p === undefined
        ? undefined
        : {
            round: p.round,
            oracleCalls: p.oracleCalls,
            objective: p.objective,
            gradNorm: p.gradNorm,
            seconds: p.seconds,
            fraction: p.fraction,
            iteration: p.iteration,
          },
    createdAtMs: j.createdAtMs,
    finishedAtMs: j.finishedAtMs ?? 0,
    resultJson,
    finalX: result?.final === undefined ? undefined : f64Tensor(Float64Array.from(result.final.x)),
  };
}

function unary<T>(cb: sendUnaryData<T>, fn: () => T): void {
  let value: T;
  try {
    value = fn();
  } catch (e) {
    cb(toServiceError(e), null);
    return;
  }
  cb(null, value);
}

/** A worker as ListWorkers reports it. */
export interface WorkerView {
  readonly worker: RemoteWorker;
  readonly transport: 'grpc' | 'nats';
}

export function workerToMessage(v: WorkerView, nowMs = Date.now()): WorkerInfo {
  const w = v.worker;
  return {
    id: w.id,
    name: w.info.name,
    state: w.draining ? 'draining' : 'live',
    transport: v.transport,
    threads: w.info.threads,
    memoryBytes: w.info.memoryBytes,
    backend: w.info.backend,
    pid: w.info.pid,
    hostname: w.info.hostname,
    lastSeenMsAgo: Math.max(0, nowMs - w.lastHeartbeatMs),
  };
}

export function jobService(jobs: JobManager, workers: () => readonly WorkerView[] = () => []): JobServiceServer {
  return {
    listWorkers: (_call, cb) => unary(cb, () => ({ workers: workers().map((v) => workerToMessage(v)) })),
    submitJob: (call, cb) =>
      unary(cb, () => {
        const spec = parseJobSpec(call.request.spec, 'SubmitJobRequest.spec');
        return { job: jobToMessage(jobs.submit(spec, call.request.jobId)) };
      }),
    getJob: (call, cb) => unary(cb, () => ({ job: jobToMessage(jobs.get(call.request.jobId)) })),
    cancelJob: (call, cb) => unary(cb, () => ({ job: jobToMessage(jobs.cancel(call.request.jobId)) })),
    listJobs: (_call, cb) => unary(cb, () => ({ jobs: jobs.list().map(jobToMessage) })),
    watchJob: (call) => {
      let rec: JobRecord;
      try {
        rec = jobs.get(call.request.jobId);
      } catch (e) {
        call.emit('error', toServiceError(e));
        return;
      }
      const send = (j: JobRecord): void => {
        const m = jobToMessage(j);
        call.write({ jobId: j.id, state: m.state, progress: m.progress, job: TERMINAL.has(j.state) ? m : undefined });
      };
      send(rec);
      if (TERMINAL.has(rec.state)) {
        call.end();
        return;
      }
      const off = jobs.watch(rec.id, (e) => {
        send(e.job);
        if (TERMINAL.has(e.job.state)) {
          off();
          call.end();
        }
      });
      call.on('cancelled', off);
    },
  };
}
