/**
 * NATS names shared by coordinator and workers: everything lives under a deployment prefix, so
 * several optfleet deployments (or test runs) can share one NATS server.
 *   subjects  optfleet.<prefix>.worker.<workerId>.task   (request/reply: TaskMessage → TaskResult)
 *   KV        optfleet-<prefix>-workers                  (key = worker id, value = registration JSON)
 *   objects   optfleet-<prefix>-blobs                    (messages over the server's max payload)
 *   stream    optfleet-<prefix>-jobs on optfleet.<prefix>.jobs.submit (work queue of submitted jobs)
 *   objects   optfleet-<prefix>-checkpoints              (job checkpoints, key = job id)
 */
import { z } from 'zod';
import { invalidArgument } from './errors.js';

/** Header carrying the object-store name of a message too large for one NATS payload. */
export const NATS_BLOB_HEADER = 'Optfleet-Blob';

export interface NatsNames {
  readonly prefix: string;
  readonly workersBucket: string;
  readonly blobsBucket: string;
  /** Object store of running jobs' checkpoints (key = job id). */
  readonly checkpointsBucket: string;
  /** JetStream work-queue stream of submitted jobs, and its subject. */
  readonly jobsStream: string;
  readonly jobsSubject: string;
  taskSubject(workerId: string): string;
  /** Coordinator → worker notices (a protocol-version rejection). */
  controlSubject(workerId: string): string;
}

export function natsNames(prefix = 'default'): NatsNames {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) throw invalidArgument(`--nats-prefix: "${prefix}" must be 1-64 letters, digits, "_" or "-"`);
  return {
    prefix,
    workersBucket: `optfleet-${prefix}-workers`,
    blobsBucket: `optfleet-${prefix}-blobs`,
    checkpointsBucket: `optfleet-${prefix}-checkpoints`,
    jobsStream: `optfleet-${prefix}-jobs`,
    jobsSubject: `optfleet.${prefix}.jobs.submit`,
    taskSubject: (workerId) => `optfleet.${prefix}.worker.${workerId}.task`,
    controlSubject: (workerId) => `optfleet.${prefix}.worker.${workerId}.control`,
  };
}

/** What a worker writes to the workers bucket (and re-writes every heartbeat). */
export interface NatsWorkerRecord {
  readonly protocolVersion: number;
  readonly id: string;
  readonly name: string;
  readonly threads: number;
  readonly memoryBytes: number;
  readonly backend: string;
  readonly pid: number;
  readonly hostname: string;
  readonly heartbeatMs: number;
  readonly sentAtMs: number;
  /** Set once the worker got SIGTERM: it takes no new shards and leaves once its shards are moved. */
  readonly draining?: boolean;
}

const name = z.string().min(1).max(256);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const workerRecordSchema = z
  .object({
    protocolVersion: count,
    id: name,
    name,
    threads: z.number().int().min(1).max(4096),
    memoryBytes: count,
    backend: z.enum(['cpu', 'gpu']),
    pid: count,
    hostname: name,
    heartbeatMs: z.number().int().min(1).max(3_600_000),
    sentAtMs: count,
    draining: z.boolean().optional(),
  })
  .strict();

/**
 * Validates a worker record read from the workers bucket (anyone with access to the bucket can
 * put anything there): bytes → NatsWorkerRecord, or INVALID_ARGUMENT naming the key and field.
 */
export function parseWorkerRecord(key: string, bytes: Uint8Array): NatsWorkerRecord {
  if (bytes.byteLength > 64 * 1024) throw invalidArgument(`worker record ${key}: ${bytes.byteLength} bytes is over the limit of 65536`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalidArgument(`worker record ${key}: not UTF-8 JSON`);
  }
  const r = workerRecordSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw invalidArgument(`worker record ${key}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  if (r.data.id !== key) throw invalidArgument(`worker record ${key}: id "${r.data.id}" does not match its key`);
  return r.data;
}
