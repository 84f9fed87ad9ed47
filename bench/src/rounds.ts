/**
 * Section (b): round latency and throughput of the sharded oracle, end to end through
 * `ShardedCluster`, for the in-process cluster and for gRPC worker processes on loopback.
 *
 * Two round shapes are timed on the same job (synthetic logistic data, 8 shards):
 *  - "empty round": a `loss-grad` round over one row per shard (each shard's first row), so the
 *    time is almost all overhead: splitting rows, one message per worker, executor dispatch,
 *    reduction-tree combine. Median and p90 in microseconds over a few hundred rounds.
 *  - "full-gradient round": `rows: 'all'`, the round every full-gradient step of SVRG/L-BFGS pays.
 *    Median milliseconds and the effective bandwidth (dense matrix bytes / median time), which can
 *    be compared with the single-thread kernel bandwidth of section (a).
 * The full-gradient sum of every configuration is compared bit for bit with the in-process one:
 * the reduction is defined to be identical whatever the transport and worker count, so a ✗ here
 * means something is wrong (this is a sanity column, not a test).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessEndpoint } from '@optfleet/cli';
import { ShardedCluster, startCoordinator, type CoordinatorHandle, type RoundRequest } from '@optfleet/coordinator';
import { validateJobSpec, type JobSpec } from '@optfleet/proto';
import { DirectExecutor, ShardHost } from '@optfleet/worker';
import { bitIdentical, gbPerSec, median, nowMs, quantile, timeAsync } from './stats.js';

export interface RoundsOptions {
  readonly rows: number;
  readonly cols: number;
  readonly shards: number;
  readonly emptyRounds: number;
  readonly emptyWarmup: number;
  readonly fullRounds: number;
  readonly fullWarmup: number;
  /** gRPC worker-process counts to measure (the in-process cluster is always measured first). */
  readonly grpcWorkers: readonly number[];
}

export interface RoundConfigResult {
  readonly name: string;
  readonly transport: 'inprocess' | 'grpc' | 'nats';
  /** Worker processes (grpc) or in-process endpoints. */
  readonly workers: number;
  /** Pool threads per worker process; 0 for the in-process DirectExecutor (calling thread). */
  readonly threadsPerWorker: number;
  /** Spawn to all workers registered (grpc only). */
  readonly startMs: number;
  /** cluster.open: shard generation on the workers plus the open exchange. */
  readonly openMs: number;
  readonly empty: { readonly rounds: number; readonly medianUs: number; readonly p90Us: number; readonly wireBytes: number };
  readonly full: {
    readonly rounds: number;
    readonly medianMs: number;
    readonly bestMs: number;
    readonly matrixBytes: number;
    readonly gbPerSec: number;
    readonly wireBytes: number;
  };
  /** Every timed full round of this configuration gave the same sum. */
  readonly deterministic: boolean;
  /** Full-gradient sum bit-identical to the in-process one (true for the in-process row itself). */
  readonly matchesInProcess: boolean;
}

/** Worker processes this module started and has not seen exit: killed on process exit, whatever happens. */
export const liveChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of liveChildren) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Sends SIGTERM to every child still running (for a signal handler). */
export function killBenchChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of liveChildren) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

/** The `optfleet` binary next to the @optfleet/cli entry point. */
export function cliMain(): string {
  return fileURLToPath(new URL('./main.js', import.meta.resolve('@optfleet/cli')));
}

function benchSpec(o: RoundsOptions): JobSpec {
  return validateJobSpec({
    name: 'bench',
    seed: 1,
    shards: o.shards,
    problem: { kind: 'logistic', data: { source: 'synthetic', n: o.rows, d: o.cols } },
    algorithm: { name: 'lbfgs' },
  });
}

function benchPoint(d: number): Float64Array {
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = 0.5 * Math.sin(j + 1);
  return w;
}

/** Terminates a child: SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export function stopChild(c: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    const t = setTimeout(() => c.kill('SIGKILL'), graceMs);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

interface Measured {
  openMs: number;
  empty: RoundConfigResult['empty'];
  full: RoundConfigResult['full'];
  deterministic: boolean;
  sum: Float64Array;
}

/** Opens the job on the cluster and times both round shapes. */
async function measure(cluster: ShardedCluster, spec: JobSpec, o: RoundsOptions): Promise<Measured> {
  const t0 = nowMs();
  const layout = await cluster.open('bench', spec, o.shards);
  const openMs = nowMs() - t0;
  const w = benchPoint(layout.cols);

  const emptyReq: RoundRequest = { op: 'loss-grad', points: [w], rows: Uint32Array.from(layout.rowOffsets.slice(0, layout.shardCount)) };
  let emptyWire = 0;
  const emptyMs = await timeAsync(
    async () => {
      const r = await cluster.round(emptyReq);
      emptyWire = r.bytesOut + r.bytesIn;
    },
    o.emptyWarmup,
    o.emptyRounds,
  );

  const fullReq: RoundRequest = { op: 'loss-grad', points: [w], rows: 'all' };
  const sums: Float64Array[] = [];
  let fullWire = 0;
  const fullMs = await timeAsync(
    async () => {
      const r = await cluster.round(fullReq);
      sums.push(r.sum);
      fullWire = r.bytesOut + r.bytesIn;
    },
    o.fullWarmup,
    o.fullRounds,
  );
  const sum = sums[0]!;
  const matrixBytes = layout.nnz * Float64Array.BYTES_PER_ELEMENT; // dense: nnz = rows·cols
  const med = median(fullMs);
  return {
    openMs,
    empty: { rounds: emptyMs.length, medianUs: median(emptyMs) * 1000, p90Us: quantile(emptyMs, 0.9) * 1000, wireBytes: emptyWire },
    full: {
      rounds: fullMs.length,
      medianMs: med,
      bestMs: Math.min(...fullMs),
      matrixBytes,
      gbPerSec: gbPerSec(matrixBytes, med),
      wireBytes: fullWire,
    },
    deterministic: sums.every((s) => bitIdentical(s, sum)),
    sum,
  };
}

async function inProcess(spec: JobSpec, o: RoundsOptions): Promise<Measured> {
  const cluster = new ShardedCluster([new InProcessEndpoint('bench-0', new ShardHost(new DirectExecutor()))]);
  try {
    return await measure(cluster, spec, o);
  } finally {
    await cluster.close();
  }
}

/** Starts a throw-away nats-server (JetStream, temp store, free port) if one is on PATH. */
export async function withNatsServer<T>(fn: (url: string) => Promise<T>): Promise<T | undefined> {
  if (spawnSync('nats-server', ['--version']).status !== 0) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'optfleet-bench-nats-'));
  const port = await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const p = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(p));
    });
  });
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  liveChildren.add(child);
  try {
    for (let i = 0; i < 200; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const sock = connect(port, '127.0.0.1');
        sock.once('connect', () => (sock.destroy(), resolve(true)));
        sock.once('error', () => resolve(false));
      });
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return await fn(`nats://127.0.0.1:${port}`);
  } finally {
    await stopChild(child, 3000);
    liveChildren.delete(child);
    await rm(dir, { recursive: true, force: true });
  }
}

async function grpc(
  spec: JobSpec,
  o: RoundsOptions,
  workers: number,
  threads: number,
  natsUrl?: string,
): Promise<Measured & { startMs: number }> {
  const coordinator: CoordinatorHandle = await startCoordinator({
    listen: '127.0.0.1:0',
    minWorkers: workers,
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 10_000,
    ...(natsUrl === undefined ? {} : { nats: { url: natsUrl, prefix: `bench-${process.pid}` } }),
  });
  const children: ChildProcess[] = [];
  let cluster: ShardedCluster | undefined;
  try {
    const t0 = nowMs();
    const main = cliMain();
    const early = new Promise<never>((_, reject) => {
      for (let i = 0; i < workers; i++) {
        const child = spawn(
          process.execPath,
          [
            main,
            'worker',
            ...(natsUrl === undefined
              ? ['--coordinator', coordinator.server.address]
              : ['--nats', natsUrl, '--nats-prefix', `bench-${process.pid}`]),
            '--exit-on-disconnect',
            '--quiet',
            '--metrics-listen',
            'off',
            '--threads',
            String(threads),
            '--name',
            `bench-${i}`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr?.setEncoding('utf8');
        child.stderr?.on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
        children.push(child);
        liveChildren.add(child);
        child.once('exit', (code, sig) => {
          liveChildren.delete(child);
          reject(new Error(`worker bench-${i} (pid ${child.pid}) exited with ${sig ?? `code ${code}`}${stderr ? `:\n${stderr}` : ''}`));
        });
      }
    });
    early.catch(() => undefined);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`${workers} workers did not register within 30 s`)), 30_000);
    try {
      await Promise.race([coordinator.waitForWorkers(workers, ac.signal), early]);
    } finally {
      clearTimeout(timer);
    }
    const startMs = nowMs() - t0;
    cluster = new ShardedCluster(coordinator.liveWorkers());
    const m = await Promise.race([measure(cluster, spec, o), early]);
    return { ...m, startMs };
  } finally {
    await cluster?.close().catch(() => undefined);
    await coordinator.close(500).catch(() => undefined);
    await Promise.all(children.map((c) => stopChild(c, 3000)));
  }
}

/** Measures the in-process cluster, then each gRPC worker count, in that order. */
export async function runRounds(o: RoundsOptions, log: (s: string) => void): Promise<RoundConfigResult[]> {
  const spec = benchSpec(o);
  const cores = availableParallelism();
  const out: RoundConfigResult[] = [];

  log('rounds: in-process…');
  const ref = await inProcess(spec, o);
  out.push({
    name: 'in-process',
    transport: 'inprocess',
    workers: 1,
    threadsPerWorker: 0,
    startMs: 0,
    openMs: ref.openMs,
    empty: ref.empty,
    full: ref.full,
    deterministic: ref.deterministic,
    matchesInProcess: true,
  });

  for (const W of o.grpcWorkers) {
    const threads = Math.max(1, Math.floor(cores / W));
    log(`rounds: gRPC, ${W} worker process${W === 1 ? '' : 'es'} × ${threads} thread${threads === 1 ? '' : 's'}…`);
    const m = await grpc(spec, o, W, threads);
    out.push({
      name: `grpc ${W}w×${threads}t`,
      transport: 'grpc',
      workers: W,
      threadsPerWorker: threads,
      startMs: m.startMs,
      openMs: m.openMs,
      empty: m.empty,
      full: m.full,
      deterministic: m.deterministic,
      matchesInProcess: bitIdentical(m.sum, ref.sum),
    });
  }

  for (const W of o.grpcWorkers) {
    const threads = Math.max(1, Math.floor(cores / W));
    log(
      `rounds: NATS, ${W} worker process${W === 1 ? '' : 'es'} × ${threads} thread${threads === 1 ? '' : 's'} (if nats-server is on PATH)…`,
    );
    const nats = await withNatsServer((url) => grpc(spec, o, W, threads, url));
    if (nats === undefined) {
      log('rounds: nats-server not on PATH, NATS rows skipped');
      break;
    }
    out.push({
      name: `nats ${W}w×${threads}t`,
      transport: 'nats',
      workers: W,
      threadsPerWorker: threads,
      startMs: nats.startMs,
      openMs: nats.openMs,
      empty: nats.empty,
      full: nats.full,
      deterministic: nats.deterministic,
      matchesInProcess: bitIdentical(nats.sum, ref.sum),
    });
  }
  return out;
}
