/**
 * The worker's side of the gRPC worker channel: dial the coordinator, open one long-lived
 * bidirectional stream, register with capacity, heartbeat, and serve tasks with the ShardHost.
 * Tasks are decoded, validated and served by serve-task.ts, shared with the NATS transport.
 */
import { hostname, totalmem } from 'node:os';
import * as grpc from '@grpc/grpc-js';
import { type ConnectRequest, type ConnectResponse, LIMITS, PROTOCOL_VERSION, WorkerChannelServiceClient } from '@optfleet/proto';
import type { ShardHost } from '../../shard-host.js';
import { serveTask } from '../serve-task.js';

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

/**
 * Opens the channel and serves until it ends. Resolves with why it ended; never rejects.
 * `stop()` on the returned handle closes the stream from this side.
 */
export function connectWorkerChannel(
  host: ShardHost,
  o: GrpcAgentOptions,
): { ended: Promise<ChannelEnd>; stop: () => void; drain: (reason: string, timeoutMs: number) => void } {
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
        void serveTask(host, body.value).then((result) => send({ body: { $case: 'result', value: result } }));
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
  return {
    ended,
    stop: () => finish({ reason: 'closed', message: 'stopped by the worker' }),
    // Tells the coordinator this worker is leaving: it moves the shards away, then we exit.
    drain: (reason, timeoutMs) => send({ body: { $case: 'drain', value: { reason, timeoutMs } } }),
  };
}
