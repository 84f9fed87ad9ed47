/**
 * The embedded cluster behind `optfleet run`: a coordinator plus N worker processes on loopback
 * (grpc), or N in-process shard hosts (inprocess). No services needed. Worker processes are
 * started with --exit-on-disconnect, so they go away with the coordinator even if it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JobManager, ShardedCluster, startCoordinator, type JobResultDoc, type RunProgress } from '@optfleet/coordinator';
import { DirectExecutor, ShardHost } from '@optfleet/worker';
import { ERROR_CODES, OptfleetError, natsNames, type JobSpec } from '@optfleet/proto';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { InProcessEndpoint } from './inprocess-endpoint.js';

export interface EmbeddedRunOptions {
  readonly spec: JobSpec;
  /** Worker processes (grpc) or in-process hosts. */
  readonly workers: number;
  readonly transport: 'inprocess' | 'grpc' | 'nats';
  /** NATS server for transport 'nats' (workers register there under a per-run prefix). */
  readonly natsUrl?: string;
  /** Pool threads per worker process. @default max(1, floor(cores / workers)) */
  readonly threads?: number;
  /** Coordinator checkpoint interval (memory): a job survives a worker dying. null disables. @default 30 */
  readonly checkpointIntervalS?: number | null;
  /** Milliseconds to wait for the workers to register. @default 30000 */
  readonly startTimeoutMs?: number;
  readonly signal?: AbortSignal;
  onProgress?(p: RunProgress): void;
  onState?(state: string): void;
  /** Where worker processes' stderr goes. @default 'inherit' */
  readonly workerStderr?: 'inherit' | 'ignore';
}

const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Children of this process, so a signal handler can reap them. */
export const liveChildren = new Set<ChildProcess>();

export function killChildren(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const c of liveChildren) if (c.exitCode === null && c.signalCode === null) c.kill(signal);
}

async function runWith(jobs: JobManager, o: EmbeddedRunOptions): Promise<JobResultDoc> {
  const rec = jobs.submit(o.spec);
  const off = jobs.watch(rec.id, (e) => {
    if (e.kind === 'progress' && e.job.progress !== undefined) o.onProgress?.(e.job.progress);
    if (e.kind === 'state') o.onState?.(e.job.state);
  });
  const onAbort = (): void => void jobs.cancel(rec.id);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await jobs.wait(rec.id);
  } finally {
    off();
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Deletes the per-run KV bucket, object store and job stream an embedded NATS run created. */
async function removeRunStreams(url: string, prefix: string): Promise<void> {
  const names = natsNames(prefix);
  const nc = await connect({ servers: url.split(','), name: 'optfleet-run-cleanup' }).catch(() => undefined);
  if (nc === undefined) return;
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of [`KV_${names.workersBucket}`, `OBJ_${names.blobsBucket}`, names.jobsStream]) {
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  } finally {
    await nc.close();
  }
}

export async function runEmbedded(o: EmbeddedRunOptions): Promise<JobResultDoc> {
  if (o.transport === 'inprocess') {
    const endpoints = Array.from({ length: o.workers }, (_, i) => new InProcessEndpoint(`local-${i}`, new ShardHost(new DirectExecutor())));
    const jobs = new JobManager({
      clusterFor: () => Promise.resolve({ cluster: new ShardedCluster(endpoints), workers: endpoints.length, transport: 'inprocess' }),
    });
    return runWith(jobs, o);
  }

  // A NATS run gets its own prefix, so concurrent runs on one server never see each other's workers.
  const prefix = `run-${process.pid}-${Math.floor(performance.timeOrigin % 1e9).toString(36)}`;
  if (o.transport === 'nats' && o.natsUrl === undefined)
    throw new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, 'transport nats needs a NATS URL');
  const coordinator = await startCoordinator({
    listen: '127.0.0.1:0',
    minWorkers: o.workers,
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 10_000,
    ...(o.checkpointIntervalS === undefined ? {} : { checkpointIntervalS: o.checkpointIntervalS }),
    // Checkpoints in memory (a lost worker's job resumes on the others); nothing outlives the run.
    ...(o.transport === 'nats' ? { nats: { url: o.natsUrl!, prefix, durableCheckpoints: false } } : {}),
  });
  const children: ChildProcess[] = [];
  try {
    const cores = (await import('node:os')).availableParallelism();
    const threads = o.threads ?? Math.max(1, Math.floor(cores / o.workers));
    const exited = new Promise<never>((_, reject) => {
      for (let i = 0; i < o.workers; i++) {
        const child = spawn(
          process.execPath,
          [
            CLI_MAIN,
            'worker',
            ...(o.transport === 'nats' ? ['--nats', o.natsUrl!, '--nats-prefix', prefix] : ['--coordinator', coordinator.server.address]),
            '--threads',
            String(threads),
            '--name',
            `embedded-${i}`,
            '--exit-on-disconnect',
            '--quiet',
            '--metrics-listen',
            'off',
          ],
          { stdio: ['ignore', 'ignore', o.workerStderr ?? 'inherit'] },
        );
        children.push(child);
        liveChildren.add(child);
        child.on('exit', (code, sig) => {
          liveChildren.delete(child);
          reject(
            new OptfleetError(
              ERROR_CODES.WORKER_LOST,
              `worker process embedded-${i} (pid ${child.pid}) exited with ${sig ?? `code ${code}`} before registering`,
            ),
          );
        });
      }
    });
    exited.catch(() => undefined);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), o.startTimeoutMs ?? 30_000);
    try {
      await Promise.race([coordinator.waitForWorkers(o.workers, ac.signal), exited]);
    } catch (e) {
      if (ac.signal.aborted) {
        throw new OptfleetError(
          ERROR_CODES.DEADLINE_EXCEEDED,
          `${o.workers} worker processes did not register within ${o.startTimeoutMs ?? 30_000} ms`,
        );
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
    return await runWith(coordinator.jobs, o);
  } finally {
    await coordinator.close(500);
    if (o.transport === 'nats') await removeRunStreams(o.natsUrl!, prefix);
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 3000);
            c.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
  }
}
