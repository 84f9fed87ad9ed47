/**
 * Worker membership over NATS: workers register in the deployment's JetStream KV bucket and
 * re-put their key every heartbeat (the bucket TTL also expires silent keys; on nats-server 2.9
 * an expiry sends no delete, so a reaper marks a worker lost once its last put is older than the
 * heartbeat timeout). A deleted key is a graceful leave. Each worker is a RemoteWorker whose tasks
 * go out as NATS requests on its subject; messages over the max payload go through the object store.
 */
import { randomUUID } from 'node:crypto';
import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { Kvm, type KV } from '@nats-io/kv';
import { Objm, type ObjectStore } from '@nats-io/obj';
import {
  NATS_BLOB_HEADER,
  PROTOCOL_VERSION,
  TaskMessage,
  TaskResultMessage,
  natsNames,
  parseWorkerRecord,
  type NatsNames,
  type NatsWorkerRecord,
} from '@optfleet/proto';
import { RemoteWorker } from '../grpc/remote-worker.js';

export interface NatsRegistryOptions {
  /** NATS server URL(s), comma-separated. */
  url: string;
  /** Deployment prefix. @default 'default' */
  prefix?: string;
  /** A worker whose last heartbeat is older than this is lost (also the bucket TTL). @default 5000 */
  heartbeatTimeoutMs?: number;
  /** Longest a round may take on one worker before it counts as lost. @default 600000 */
  requestTimeoutMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  onWorkerLost?: () => void;
}

interface Tracked {
  readonly worker: RemoteWorker;
  lastSeenMs: number;
}

export class NatsWorkerRegistry {
  private readonly workers = new Map<string, Tracked>();
  private readonly waiters = new Set<() => void>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  /** Records in the workers bucket that failed validation (ignored). */
  rejected = 0;
  private readonly onDisconnect = new Set<() => void>();

  private constructor(
    readonly nc: NatsConnection,
    readonly kv: KV,
    private readonly os: ObjectStore,
    readonly names: NatsNames,
    private readonly o: NatsRegistryOptions,
  ) {
    const timeout = o.heartbeatTimeoutMs ?? 5000;
    this.timer = setInterval(
      () => {
        const now = Date.now();
        for (const [id, t] of this.workers) {
          if (now - t.lastSeenMs > timeout)
            this.lose(id, `no heartbeat in ${names.workersBucket} for ${now - t.lastSeenMs} ms (timeout ${timeout} ms)`);
        }
      },
      Math.max(50, Math.floor(timeout / 4)),
    );
    this.timer.unref();
  }

  static async start(o: NatsRegistryOptions): Promise<NatsWorkerRegistry> {
    const names = natsNames(o.prefix ?? 'default');
    const nc = await connect({ servers: o.url.split(','), name: 'optfleet-coordinator', maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    try {
      const kv = await new Kvm(nc).create(names.workersBucket, { ttl: o.heartbeatTimeoutMs ?? 5000, history: 1 });
      const os = await new Objm(nc).create(names.blobsBucket);
      const reg = new NatsWorkerRegistry(nc, kv, os, names, o);
      await reg.watch();
      reg.watchStatus();
      return reg;
    } catch (e) {
      await nc.close();
      throw e;
    }
  }

  private async watch(): Promise<void> {
    const it = await this.kv.watch();
    void (async () => {
      for await (const e of it) {
        if (this.closed) break;
        if (e.operation !== 'PUT') {
          this.lose(e.key, 'it deregistered (graceful leave)');
          continue;
        }
        let record: NatsWorkerRecord;
        try {
          record = parseWorkerRecord(e.key, e.value);
        } catch (err) {
          // Not one of our workers (or a broken one): log, ignore, keep watching.
          this.rejected++;
          this.o.log?.('warn', 'worker record rejected', { key: e.key, reason: err instanceof Error ? err.message : String(err) });
          continue;
        }
        this.seen(e.key, record);
      }
    })().catch((err: unknown) => this.o.log?.('error', 'workers bucket watch failed', { error: String(err) }));
  }

  private watchStatus(): void {
    void (async () => {
      for await (const st of this.nc.status()) {
        if (st.type === 'disconnect') {
          this.o.log?.('warn', 'NATS disconnected; reconnecting', {});
          const fns = [...this.onDisconnect];
          this.onDisconnect.clear();
          for (const f of fns) f();
        } else if (st.type === 'reconnect') {
          this.o.log?.('info', 'NATS reconnected', {});
          // Heartbeats stopped while the server was away: give every worker a fresh timeout.
          const now = Date.now();
          for (const t of this.workers.values()) t.lastSeenMs = now;
        }
      }
    })().catch(() => undefined);
  }

  private seen(id: string, r: NatsWorkerRecord): void {
    const known = this.workers.get(id);
    if (known !== undefined) {
      known.lastSeenMs = Date.now();
      known.worker.lastHeartbeatMs = known.lastSeenMs;
      if (r.draining === true && !known.worker.draining) {
        // Leaving: no new shards; running jobs move its shards away at their next round boundary.
        known.worker.draining = true;
        this.o.log?.('info', 'worker draining', { worker: id, transport: 'nats' });
      }
      return;
    }
    if (Date.now() - r.sentAtMs > (this.o.heartbeatTimeoutMs ?? 5000) * 4) return; // a stale record from before a restart
    if (r.protocolVersion !== PROTOCOL_VERSION) {
      const message = `worker protocol version ${r.protocolVersion} is not supported: this coordinator speaks protocol version ${PROTOCOL_VERSION}`;
      this.o.log?.('warn', 'worker rejected', { worker: id, reason: message });
      this.nc.publish(this.names.controlSubject(id), JSON.stringify({ type: 'rejected', code: 'INVALID_ARGUMENT', message }));
      return;
    }
    const subject = this.names.taskSubject(id);
    const worker: RemoteWorker = new RemoteWorker(
      { id, name: r.name, threads: r.threads, memoryBytes: r.memoryBytes, backend: r.backend, pid: r.pid, hostname: r.hostname },
      (task) => void this.request(worker, subject, task),
    );
    worker.draining = r.draining === true;
    this.workers.set(id, { worker, lastSeenMs: Date.now() });
    this.o.log?.('info', 'worker registered', { worker: id, name: r.name, transport: 'nats' });
    for (const w of [...this.waiters]) w();
  }

  /**
   * Sends a task and delivers its result. Delivery is at least once: a request cut off by a
   * disconnect, or answered "no responders" while the worker resubscribes after a server
   * restart, is sent again (the worker answers a repeated task from its cache, never running it
   * twice). Only the heartbeat reaper (or a deregistration) declares a worker lost.
   */
  private async request(worker: RemoteWorker, subject: string, task: TaskMessage): Promise<void> {
    const body = TaskMessage.encode(task).finish();
    let delay = 100;
    while (worker.alive && !this.closed) {
      try {
        const packed = await this.pack(body);
        const attempt = this.nc.request(subject, packed.data, {
          timeout: this.o.requestTimeoutMs ?? 600_000,
          ...(packed.headers === undefined ? {} : { headers: packed.headers }),
        });
        const cut = this.disconnected();
        const reply = await Promise.race([attempt, cut.promise]).finally(cut.cancel);
        const blob = reply.headers?.get(NATS_BLOB_HEADER);
        let data = reply.data;
        if (blob !== undefined && blob !== '') {
          const got = await this.os.getBlob(blob);
          await this.os.delete(blob).catch(() => undefined);
          if (got === null) throw new Error(`reply blob ${blob} is missing`);
          data = got;
        }
        worker.deliver(TaskResultMessage.decode(data));
        return;
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        if (/timeout/i.test(msg) && !/disconnect/i.test(msg)) {
          this.lose(worker.id, `request on ${subject} timed out after ${this.o.requestTimeoutMs ?? 600_000} ms`);
          return;
        }
        this.o.log?.('debug', 'retrying a task', { worker: worker.id, error: msg });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  /** A promise rejected at the next disconnect (a request in flight then may never be answered). */
  private disconnected(): { promise: Promise<never>; cancel: () => void } {
    let fire: () => void = () => undefined;
    const promise = new Promise<never>((_, reject) => {
      fire = () => reject(new Error('disconnected from the NATS server'));
    });
    promise.catch(() => undefined);
    this.onDisconnect.add(fire);
    return { promise, cancel: () => void this.onDisconnect.delete(fire) };
  }

  private async pack(data: Uint8Array): Promise<{ data: Uint8Array; headers?: MsgHdrs }> {
    if (data.byteLength <= this.nc.info!.max_payload - 4096) return { data };
    const name = `blob-${randomUUID()}`;
    await this.os.putBlob({ name }, data);
    const h = headers();
    h.set(NATS_BLOB_HEADER, name);
    return { data: new Uint8Array(0), headers: h };
  }

  private lose(id: string, why: string): void {
    const t = this.workers.get(id);
    if (t === undefined) return;
    this.workers.delete(id);
    if (t.worker.alive) {
      this.o.log?.('warn', 'worker lost', { worker: id, why, transport: 'nats' });
      this.o.onWorkerLost?.();
    }
    t.worker.markLost(why);
  }

  /** Live workers in registration order. */
  live(): RemoteWorker[] {
    return [...this.workers.values()].map((t) => t.worker).filter((w) => w.alive);
  }

  /** Resolves once something changed (a worker registered); for waitFor loops. */
  changed(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    for (const id of [...this.workers.keys()]) this.lose(id, 'coordinator shutting down');
    await this.nc.close().catch(() => undefined);
  }
}
