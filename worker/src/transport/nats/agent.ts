/**
 * The worker's side of the NATS transport: connect, register in the deployment's JetStream KV
 * workers bucket (re-put every heartbeat; the bucket's TTL expires a silent worker), and serve
 * tasks by request/reply on its own subject — one request per round, the same protobuf messages
 * as the gRPC channel. Messages over the server's max payload travel through the object store
 * (a header names the blob). SIGTERM first drains (the record says `draining`, the coordinator
 * moves this worker's shards away), then stop deletes the key so the coordinator sees the leave at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname, totalmem } from 'node:os';
import { connect, headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import {
  LIMITS,
  NATS_BLOB_HEADER,
  PROTOCOL_VERSION,
  TaskMessage,
  TaskResultMessage,
  natsNames,
  toOptfleetError,
  type NatsWorkerRecord,
} from '@optfleet/proto';
import type { ShardHost } from '../../shard-host.js';
import { serveTask } from '../serve-task.js';
import type { ChannelEnd } from '../grpc/agent.js';

export interface NatsAgentOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Deployment prefix of subjects and buckets. @default 'default' */
  prefix?: string;
  threads: number;
  name?: string;
  /** Heartbeat period. @default 1000 */
  heartbeatMs?: number;
  /** TTL of the workers bucket (a worker silent this long expires); set by whoever creates the bucket. @default 5000 */
  ttlMs?: number;
  protocolVersion?: number;
  log?: (msg: string) => void;
  onRegistered?: () => void;
}

/** Reads a message body, fetching it from the object store when it travelled as a blob. */
export async function readBody(m: Msg, os: ObjectStore): Promise<Uint8Array> {
  const blob = m.headers?.get(NATS_BLOB_HEADER);
  if (blob === undefined || blob === '') return m.data;
  // Check the size before reading: a blob is a whole message, bounded like a gRPC one.
  const info = await os.info(blob);
  if (info === null) throw new Error(`blob ${blob} is missing from the object store`);
  if (info.size > LIMITS.messageBytes) {
    await os.delete(blob).catch(() => undefined);
    throw new Error(`blob ${blob}: ${info.size} bytes is over the message limit of ${LIMITS.messageBytes}`);
  }
  const data = await os.getBlob(blob);
  await os.delete(blob).catch(() => undefined);
  if (data === null) throw new Error(`blob ${blob} is missing from the object store`);
  return data;
}

/** Sends `data` as a reply/request body, or through the object store when it is over `maxPayload`. */
export async function packBody(
  data: Uint8Array,
  nc: NatsConnection,
  os: ObjectStore,
): Promise<{ data: Uint8Array; headers?: ReturnType<typeof headers> }> {
  // Leave room for headers and protocol framing.
  if (data.byteLength <= nc.info!.max_payload - 4096) return { data };
  const name = `blob-${randomUUID()}`;
  await os.putBlob({ name }, data);
  const h = headers();
  h.set(NATS_BLOB_HEADER, name);
  return { data: new Uint8Array(0), headers: h };
}

export async function connectNatsWorker(
  host: ShardHost,
  o: NatsAgentOptions,
): Promise<{ ended: Promise<ChannelEnd>; stop: () => Promise<void>; drain: () => Promise<void>; id: string }> {
  const names = natsNames(o.prefix ?? 'default');
  const log = o.log ?? (() => undefined);
  const nc = await connect({
    servers: o.url.split(','),
    name: o.name ?? `optfleet-worker-${process.pid}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  const id = `w-${randomUUID().slice(0, 8)}`;
  const heartbeatMs = o.heartbeatMs ?? 1000;
  const kv = await new Kvm(nc).create(names.workersBucket, { ttl: o.ttlMs ?? 5000, history: 1 });
  const os = await new Objm(nc).create(names.blobsBucket);
  let draining = false;
  const record = (): NatsWorkerRecord => ({
    protocolVersion: o.protocolVersion ?? PROTOCOL_VERSION,
    id,
    name: o.name ?? `${hostname()}:${process.pid}`,
    threads: o.threads,
    memoryBytes: totalmem(),
    backend: 'cpu',
    pid: process.pid,
    hostname: hostname(),
    heartbeatMs,
    sentAtMs: Date.now(),
    ...(draining ? { draining: true } : {}),
  });
  // At-least-once delivery: the coordinator re-sends a task whose reply was lost (a server
  // restart, a reconnect). Results are kept by (job, task id) so a re-sent task is answered from
  // here instead of running again — ops with sticky state (SAGA) must not apply twice.
  const recent = new Map<string, Promise<TaskResultMessage>>();
  const RECENT_MAX = 64;
  const sub = nc.subscribe(names.taskSubject(id), {
    callback: (err, m) => {
      if (err !== null) return;
      void (async () => {
        let result: TaskResultMessage;
        try {
          const task = TaskMessage.decode(await readBody(m, os));
          const key = `${task.jobId}:${task.taskId}`;
          let pending = recent.get(key);
          if (pending === undefined) {
            pending = serveTask(host, task);
            recent.set(key, pending);
            if (recent.size > RECENT_MAX) recent.delete(recent.keys().next().value!);
          }
          result = await pending;
        } catch (e) {
          const er = toOptfleetError(e);
          log(`rejected an undecodable task message on ${m.subject}: ${er.message}`);
          result = {
            taskId: 0,
            outcome: { $case: 'error', value: { code: 'INVALID_ARGUMENT', message: `undecodable task: ${er.message}`, retryable: false } },
          };
        }
        const packed = await packBody(TaskResultMessage.encode(result).finish(), nc, os);
        m.respond(packed.data, packed.headers === undefined ? {} : { headers: packed.headers });
      })().catch((e: unknown) => log(`failed to answer a task: ${String(e)}`));
    },
  });
  // Notices from the coordinator (subscribed before registering, so a rejection cannot be missed).
  let rejectedWith: string | undefined;
  let beat: NodeJS.Timeout | undefined;
  let stopped = false;
  const control = nc.subscribe(names.controlSubject(id), {
    callback: (err, m) => {
      if (err !== null) return;
      try {
        const notice = m.json<{ type: string; message: string }>();
        if (notice.type === 'rejected') {
          rejectedWith = notice.message;
          void stop();
        }
      } catch {
        // not a notice we understand
      }
    },
  });
  await kv.put(id, JSON.stringify(record()));
  log(`registered as ${id} in ${names.workersBucket}`);
  o.onRegistered?.();
  if (!stopped) {
    beat = setInterval(
      () => void kv.put(id, JSON.stringify(record())).catch((e: unknown) => log(`heartbeat failed: ${String(e)}`)),
      heartbeatMs,
    );
    beat.unref();
  }
  const ended = nc.closed().then((e): ChannelEnd => {
    if (rejectedWith !== undefined) return { reason: 'rejected', message: rejectedWith };
    return stopped
      ? { reason: 'closed', message: 'stopped by the worker' }
      : { reason: 'disconnected', message: `NATS connection to ${o.url} closed${e ? `: ${e.message}` : ''}` };
  });
  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    if (beat !== undefined) clearInterval(beat);
    sub.unsubscribe();
    control.unsubscribe();
    await kv.delete(id).catch(() => undefined);
    await nc.drain().catch(() => undefined);
  }
  // Leaving: the record says so (the coordinator moves our shards away), heartbeats go on until stop().
  async function drain(): Promise<void> {
    draining = true;
    await kv.put(id, JSON.stringify(record())).catch((e: unknown) => log(`drain notice failed: ${String(e)}`));
  }
  return { id, ended, stop, drain };
}
