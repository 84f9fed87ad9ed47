/**
 * A worker process's runtime: pool + shard host + a channel to the coordinator, reconnecting with
 * backoff unless told to exit when the coordinator goes away (embedded mode).
 */
import { PoolExecutor, type PoolOptions } from './pool.js';
import { ShardHost } from './shard-host.js';
import { noopWorkerMetrics, type WorkerMetricSources, type WorkerMetrics } from './metrics.js';
import { connectWorkerChannel, type ChannelEnd } from './transport/grpc/agent.js';
import { connectNatsWorker } from './transport/nats/agent.js';

export interface WorkerOptions extends PoolOptions {
  /** host:port of the coordinator's gRPC endpoint (gRPC transport). */
  coordinator?: string;
  /** NATS transport instead of gRPC: server URL(s) and deployment prefix. */
  nats?: { url: string; prefix?: string };
  /** Name shown by the coordinator. @default `${hostname}:${pid}` */
  name?: string;
  /** Exit when the channel ends instead of reconnecting (embedded mode). @default false */
  exitOnDisconnect?: boolean;
  /** Give up reconnecting after this long without a connection. @default 60000 */
  reconnectTimeoutMs?: number;
  /** Protocol version to announce (for tests). */
  protocolVersion?: number;
  /** Diagnostics sink. @default no-op */
  log?: (msg: string) => void;
  /** Builds the metrics from scrape-time sources. @default no-op */
  metrics?: (sources: WorkerMetricSources) => WorkerMetrics;
}

/** How a graceful leave went. */
export interface DrainOutcome {
  /** True when every shard was handed back (or none was held) before the timeout. */
  readonly drained: boolean;
  /** Shards held when the drain began, and still held when it ended. */
  readonly heldAtStart: number;
  readonly remaining: number;
  readonly ms: number;
}

export interface WorkerHandle {
  /** Resolves when the worker has stopped, with why. */
  readonly done: Promise<ChannelEnd>;
  /** Stops serving, closes the channel and the pool. */
  stop(): Promise<void>;
  /**
   * Graceful leave (SIGTERM): tell the coordinator this worker takes no new shards, wait (up to
   * `timeoutMs`) until running jobs have moved its shards and their sticky state to other workers
   * at their next round boundary, then stop.
   */
  drain(timeoutMs: number): Promise<DrainOutcome>;
  /** True while registered with a coordinator (for /readyz). */
  ready(): boolean;
}

export function startWorker(o: WorkerOptions): WorkerHandle {
  const pool = new PoolExecutor(o);
  // The metrics read holdings lazily at scrape time, so they can be built before the host.
  const holder: { host?: ShardHost } = {};
  const metrics =
    o.metrics?.({ pool: () => pool.stats(), holdings: () => holder.host?.holdings() ?? { shards: 0, bytes: 0 }, backend: 'cpu' }) ??
    noopWorkerMetrics;
  const host = new ShardHost(pool, metrics);
  holder.host = host;
  let registered = false;
  const log = o.log ?? (() => undefined);
  let stopping = false;
  let current: ReturnType<typeof connectWorkerChannel> | undefined;
  let stopNats: (() => Promise<void>) | undefined;
  let drainNats: (() => Promise<void>) | undefined;
  let draining = false;
  const reconnectTimeoutMs = o.reconnectTimeoutMs ?? 60_000;

  const natsLoop = async (): Promise<ChannelEnd> => {
    // The NATS client reconnects by itself; the agent only ends on stop or a closed connection.
    const agent = await connectNatsWorker(host, {
      url: o.nats!.url,
      threads: pool.threads,
      log,
      onRegistered: () => (registered = true),
      ...(o.nats!.prefix === undefined ? {} : { prefix: o.nats!.prefix }),
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.protocolVersion === undefined ? {} : { protocolVersion: o.protocolVersion }),
    });
    stopNats = agent.stop;
    drainNats = agent.drain;
    if (draining) await agent.drain();
    if (stopping) await agent.stop();
    const end = await agent.ended;
    registered = false;
    return end;
  };

  const loop = async (): Promise<ChannelEnd> => {
    if (o.nats !== undefined) return natsLoop();
    if (o.coordinator === undefined) return { reason: 'rejected', message: 'a worker needs --coordinator (gRPC) or --nats' };
    let since = Date.now();
    let delay = 200;
    for (;;) {
      current = connectWorkerChannel(host, {
        coordinator: o.coordinator,
        threads: pool.threads,
        log,
        onRegistered: () => (registered = true),
        ...(o.name === undefined ? {} : { name: o.name }),
        ...(o.protocolVersion === undefined ? {} : { protocolVersion: o.protocolVersion }),
      });
      const opened = Date.now();
      const end = await current.ended;
      registered = false;
      // The coordinator that opened our jobs is gone (a restarted one reopens what it resumes).
      host.closeAll();
      if (stopping || draining || end.reason !== 'disconnected' || o.exitOnDisconnect === true) return end;
      if (Date.now() - opened > 5_000) {
        since = Date.now();
        delay = 200;
      }
      if (Date.now() - since > reconnectTimeoutMs)
        return { reason: 'disconnected', message: `${end.message}; gave up reconnecting after ${reconnectTimeoutMs} ms` };
      log(`${end.message}; reconnecting in ${delay} ms`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5_000);
    }
  };
  const done = loop()
    .catch((e: unknown): ChannelEnd => ({
      reason: 'disconnected',
      message: `worker transport failed: ${e instanceof Error ? e.message : String(e)}`,
    }))
    .finally(() => pool.close());
  const stop = async (): Promise<void> => {
    stopping = true;
    current?.stop();
    await stopNats?.();
    await done;
  };
  const drain = async (timeoutMs: number): Promise<DrainOutcome> => {
    const t0 = Date.now();
    const held = (): number => host.holdings().shards;
    const heldAtStart = held();
    draining = true;
    if (heldAtStart > 0) {
      current?.drain('SIGTERM', timeoutMs);
      await drainNats?.();
      log(`draining: waiting for the coordinator to move ${heldAtStart} shard(s) (timeout ${timeoutMs} ms)`);
      let channelEnded = false;
      void done.then(() => (channelEnded = true));
      while (held() > 0 && !channelEnded && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
    }
    const remaining = held();
    await stop();
    return { drained: remaining === 0, heldAtStart, remaining, ms: Date.now() - t0 };
  };
  return { done, stop, drain, ready: () => registered };
}
