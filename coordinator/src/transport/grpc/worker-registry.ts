/**
 * The coordinator's side of the worker channel: accepts Connect streams, checks the protocol
 * version at Register, tracks heartbeats and hands out live workers. A worker whose stream ends
 * or which misses heartbeats for `heartbeatTimeoutMs` is marked dead.
 */
import { randomUUID } from 'node:crypto';
import { status, type ServerDuplexStream } from '@grpc/grpc-js';
import { ERROR_CODES, PROTOCOL_VERSION, type ConnectRequest, type ConnectResponse, type WorkerChannelServiceServer } from '@optfleet/proto';
import { RemoteWorker } from './remote-worker.js';

export interface WorkerRegistryOptions {
  /** Interval the workers are told to heartbeat at. @default 1000 */
  heartbeatIntervalMs?: number;
  /** A worker silent this long is dead. @default 5000 */
  heartbeatTimeoutMs?: number;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** Called once per worker marked lost. */
  onWorkerLost?: () => void;
}

export class WorkerRegistry {
  private readonly workers = new Map<string, RemoteWorker>();
  private readonly waiters = new Set<() => void>();
  private seq = 0;
  private readonly timer: NodeJS.Timeout;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;

  constructor(private readonly o: WorkerRegistryOptions = {}) {
    this.heartbeatIntervalMs = o.heartbeatIntervalMs ?? 1000;
    this.heartbeatTimeoutMs = o.heartbeatTimeoutMs ?? 5000;
    this.timer = setInterval(() => this.reap(), Math.max(50, Math.floor(this.heartbeatIntervalMs / 2)));
    this.timer.unref();
  }

  /** Live workers in registration order. */
  live(): RemoteWorker[] {
    return [...this.workers.values()].filter((w) => w.alive);
  }

  /** Resolves once at least `count` workers are live (rejects on abort). */
  async waitFor(count: number, signal?: AbortSignal): Promise<RemoteWorker[]> {
    for (;;) {
      const l = this.live();
      if (l.length >= count) return l;
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  private reap(): void {
    const now = Date.now();
    for (const w of this.workers.values()) {
      if (w.alive && now - w.lastHeartbeatMs > this.heartbeatTimeoutMs) {
        w.markLost(`no heartbeat for ${now - w.lastHeartbeatMs} ms (timeout ${this.heartbeatTimeoutMs} ms)`);
        this.o.onWorkerLost?.();
        this.o.log?.('warn', 'worker dead', { worker: w.id });
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    for (const w of this.workers.values()) w.markLost('coordinator shutting down');
  }

  /** The gRPC service implementation. */
  service(): WorkerChannelServiceServer {
    return {
      connect: (stream: ServerDuplexStream<ConnectRequest, ConnectResponse>) => this.accept(stream),
    };
  }

  private accept(stream: ServerDuplexStream<ConnectRequest, ConnectResponse>): void {
    let worker: RemoteWorker | undefined;
    const reject = (code: string, message: string, grpcCode: status): void => {
      stream.write({ body: { $case: 'rejected', value: { error: { code, message, retryable: false } } } });
      stream.emit('error', Object.assign(new Error(message), { code: grpcCode, details: message }));
      stream.end();
    };
    stream.on('data', (msg: ConnectRequest) => {
      const body = msg.body;
      if (body === undefined) return;
      if (worker === undefined) {
        if (body.$case !== 'register') {
          reject(
            ERROR_CODES.FAILED_PRECONDITION,
            `the first message on the worker channel must be register, got ${body.$case}`,
            status.FAILED_PRECONDITION,
          );
          return;
        }
        const r = body.value;
        if (r.protocolVersion !== PROTOCOL_VERSION) {
          const message = `worker protocol version ${r.protocolVersion} is not supported: this coordinator speaks protocol version ${PROTOCOL_VERSION}`;
          this.o.log?.('warn', 'worker rejected', { reason: message, name: r.name });
          reject(ERROR_CODES.INVALID_ARGUMENT, message, status.INVALID_ARGUMENT);
          return;
        }
        if (!Number.isInteger(r.threads) || r.threads < 1) {
          reject(ERROR_CODES.INVALID_ARGUMENT, `register.threads: ${r.threads} must be ≥ 1`, status.INVALID_ARGUMENT);
          return;
        }
        const id = `w-${++this.seq}-${randomUUID().slice(0, 4)}`;
        worker = new RemoteWorker(
          { id, name: r.name, threads: r.threads, memoryBytes: r.memoryBytes, backend: r.backend, pid: r.pid, hostname: r.hostname },
          (task) => stream.write({ body: { $case: 'task', value: task } }),
        );
        this.workers.set(id, worker);
        stream.write({
          body: {
            $case: 'registered',
            value: { workerId: id, heartbeatIntervalMs: this.heartbeatIntervalMs, protocolVersion: PROTOCOL_VERSION },
          },
        });
        this.o.log?.('info', 'worker registered', { worker: id, name: r.name, threads: r.threads });
        for (const w of [...this.waiters]) w();
        return;
      }
      worker.lastHeartbeatMs = Date.now();
      if (body.$case === 'result') worker.deliver(body.value);
      else if (body.$case === 'drain' && !worker.draining) {
        // Leaving: no new shards; running jobs move its shards away at their next round boundary.
        worker.draining = true;
        this.o.log?.('info', 'worker draining', { worker: worker.id, reason: body.value.reason, timeoutMs: body.value.timeoutMs });
      }
    });
    const gone = (why: string): void => {
      if (worker === undefined) return;
      if (worker.alive) {
        this.o.log?.('warn', 'worker lost', { worker: worker.id, why });
        this.o.onWorkerLost?.();
      }
      worker.markLost(why);
      this.workers.delete(worker.id);
    };
    stream.on('end', () => {
      gone('its stream ended');
      stream.end();
    });
    stream.on('error', (e: Error) => gone(`stream error: ${e.message}`));
    stream.on('close', () => gone('its connection closed'));
    stream.on('cancelled', () => gone('its connection was cancelled'));
  }
}
