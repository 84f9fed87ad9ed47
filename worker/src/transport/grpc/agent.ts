/**
 * The worker's side of the gRPC worker channel: dial the coordinator, open one long-lived
 * bidirectional stream, register with capacity, heartbeat, and serve tasks with the ShardHost.
 * Wire messages are decoded and validated here (tensors included); the host sees domain types.
 */
import { hostname, totalmem } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import {
  type ConnectRequest,
  type ConnectResponse,
  LIMITS,
  PROTOCOL_VERSION,
  WorkerChannelServiceClient,
  decodeF64,
  decodeU32,
  f64Tensor,
  invalidArgument,
  isOp,
  toOptfleetError,
  validateJobSpec,
  OP_POINTS,
  type TaskMessage,
  type TaskResultMessage,
} from '@optfleet/proto';
import type { ShardHost } from '../../shard-host.js';

export interface GrpcAgentOptions {
  /** host:port of the coordinator. */
  coordinator: string;
  /** Name shown by the coordinator. @default `${hostname}:${pid}` */
  name?: string;
  /** Threads reported as capacity. */
  threads: number;
  /** Protocol version to announce (tests use another to check rejection). @default PROTOCOL_VERSION */
  protocolVersion?: number;
  /** Called for diagnostics. @default no-op */
  log?: (msg: string) => void;
  /** Called when the coordinator accepts the registration. */
  onRegistered?: () => void;
}

/** Why the channel ended. */
export interface ChannelEnd {
  readonly reason: 'rejected' | 'disconnected' | 'closed';
  readonly message: string;
}

export const GRPC_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': LIMITS.messageBytes,
  'grpc.max_send_message_length': LIMITS.messageBytes,
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
};

function fail(taskId: number, e: unknown): TaskResultMessage {
  const err = toOptfleetError(e);
  return { taskId, outcome: { $case: 'error', value: err.toWire() } };
}

/** Decodes a task into a host call and runs it. Every failure becomes an error value. */
async function serve(host: ShardHost, task: TaskMessage): Promise<TaskResultMessage> {
  const kind = task.kind;
  try {
    if (kind === undefined) throw invalidArgument('task.kind: missing');
    switch (kind.$case) {
      case 'open': {
        let raw: unknown;
        try {
          raw = JSON.parse(kind.value.jobSpecJson);
        } catch {
          throw invalidArgument('task.open.jobSpecJson: not JSON');
        }
        const spec = validateJobSpec(raw);
        const summaries = await host.open(task.jobId, spec, kind.value.shards, kind.value.shardCount);
        return { taskId: task.taskId, outcome: { $case: 'open', value: { shards: summaries } } };
      }
      case 'round': {
        const r = kind.value;
        if (!isOp(r.op)) throw invalidArgument(`task.round.op: unknown op "${r.op}"`);
        if (r.points.length !== OP_POINTS[r.op])
          throw invalidArgument(`task.round.points: op ${r.op} takes ${OP_POINTS[r.op]} points, got ${r.points.length}`);
        const points = r.points.map((t, i) => decodeF64(t, `task.round.points[${i}]`, LIMITS.features));
        const work = r.shards.map((s, i) => ({
          shard: s.shard,
          indices: s.indices === undefined ? null : decodeU32(s.indices, `task.round.shards[${i}].indices`),
        }));
        const nodes = await host.round(task.jobId, { op: r.op, points, work });
        return {
          taskId: task.taskId,
          outcome: { $case: 'round', value: { partials: nodes.map((n) => ({ lo: n.lo, hi: n.hi, value: f64Tensor(n.value) })) } },
        };
      }
      case 'close':
        host.close(task.jobId);
        return { taskId: task.taskId, outcome: { $case: 'closed', value: {} } };
    }
  } catch (e) {
    return fail(task.taskId, e);
  }
}

/**
 * Opens the channel and serves until it ends. Resolves with why it ended; never rejects.
 * `stop()` on the returned handle closes the stream from this side.
 */
export function connectWorkerChannel(host: ShardHost, o: GrpcAgentOptions): { ended: Promise<ChannelEnd>; stop: () => void } {
  const log = o.log ?? (() => undefined);
  const client = new WorkerChannelServiceClient(o.coordinator, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
  const call = client.connect();
  let heartbeat: NodeJS.Timeout | undefined;
  let settled = false;
  let resolveEnd: (e: ChannelEnd) => void = () => undefined;
  const ended = new Promise<ChannelEnd>((r) => (resolveEnd = r));
  const finish = (end: ChannelEnd): void => {
    if (settled) return;
    settled = true;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    call.end();
    client.close();
    resolveEnd(end);
  };
  const send = (m: ConnectRequest): void => {
    if (!settled) call.write(m);
  };

  call.on('data', (msg: ConnectResponse) => {
    const body = msg.body;
    if (body === undefined) return;
    switch (body.$case) {
      case 'registered': {
        log(`registered as ${body.value.workerId}`);
        o.onRegistered?.();
        const every = Math.max(100, body.value.heartbeatIntervalMs);
        heartbeat = setInterval(() => send({ body: { $case: 'heartbeat', value: { sentAtMs: Date.now(), queueSize: 0 } } }), every);
        heartbeat.unref();
        break;
      }
      case 'rejected':
        finish({ reason: 'rejected', message: body.value.error?.message ?? 'rejected by the coordinator' });
        break;
      case 'task':
        void serve(host, body.value).then((result) => send({ body: { $case: 'result', value: result } }));
        break;
    }
  });
  call.on('error', (e: grpc.ServiceError) => {
    finish({ reason: 'disconnected', message: `worker channel to ${o.coordinator}: ${e.details || e.message}` });
  });
  call.on('end', () => finish({ reason: 'disconnected', message: `coordinator ${o.coordinator} closed the worker channel` }));

  send({
    body: {
      $case: 'register',
      value: {
        protocolVersion: o.protocolVersion ?? PROTOCOL_VERSION,
        name: o.name ?? `${hostname()}:${process.pid}`,
        threads: o.threads,
        memoryBytes: totalmem(),
        backend: 'cpu',
        pid: process.pid,
        hostname: hostname(),
      },
    },
  });
  return { ended, stop: () => finish({ reason: 'closed', message: 'stopped by the worker' }) };
}
