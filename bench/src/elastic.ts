/**
 * Section (d): elasticity. A SAGA job (its per-row table is sticky state on the workers) runs on
 * 2 worker processes; a 3rd is spawned mid-run, then one of the first two gets SIGTERM. Measured:
 *  - join: spawn → registered (process start + connect), registered → shards moved (time and the
 *    number of rounds the job ran in between: the move happens at the next round boundary), the
 *    rebalance itself (export state, rebuild shards, import), shards and state bytes moved;
 *  - leave: SIGTERM → shards moved away → process exited 0;
 *  - the final iterate against the undisturbed in-process run (must be bit-identical).
 * For gRPC and, when nats-server is on PATH, NATS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { InProcessEndpoint } from '@optfleet/cli';
import { noopCoordinatorMetrics, runJob, ShardedCluster, startCoordinator, type RebalanceEvent } from '@optfleet/coordinator';
import { validateJobSpec, type JobSpec } from '@optfleet/proto';
import { DirectExecutor, ShardHost } from '@optfleet/worker';
import { bitIdentical, nowMs } from './stats.js';
import { cliMain, liveChildren, stopChild, withNatsServer } from './rounds.js';

export interface ElasticResult {
  readonly transport: 'grpc' | 'nats';
  readonly joinRegisterMs: number;
  readonly joinEffectMs: number;
  readonly joinRoundsUntilMoved: number;
  readonly joinRebalanceMs: number;
  readonly joinShardsMoved: number;
  readonly joinStateBytes: number;
  readonly leaveMovedMs: number;
  readonly leaveExitMs: number;
  readonly leaveExitCode: number | null;
  readonly leaveRebalanceMs: number;
  readonly leaveShardsMoved: number;
  readonly rounds: number;
  readonly matchesInProcess: boolean;
}

export const ELASTIC_JOB = {
  name: 'bench-elastic',
  seed: 4,
  shards: 16,
  problem: { kind: 'logistic', l2: 1e-4, data: { source: 'synthetic', n: 200_000, d: 32 } },
  algorithm: { name: 'saga', batchSize: 64, evalEvery: 2000 },
  stop: { maxRounds: 20_000, gradNorm: 0 },
} as const;

function spawnWorker(dial: string[], name: string): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [cliMain(), 'worker', ...dial, '--threads', '1', '--name', name, '--metrics-listen', 'off', '--drain-timeout', '60'],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  liveChildren.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (liveChildren.delete(child), resolve(code))));
  return { child, exited };
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = nowMs();
  while (!cond()) {
    if (nowMs() - t0 > timeoutMs) throw new Error(`elastic bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function measureOne(spec: JobSpec, transport: 'grpc' | 'nats', reference: Float64Array, natsUrl?: string): Promise<ElasticResult> {
  const prefix = `bench-elastic-${process.pid}`;
  const events: Array<RebalanceEvent & { atMs: number }> = [];
  // Rounds the job has run, counted as they finish (job progress is only published now and then).
  let rounds = 0;
  const coord = await startCoordinator({
    listen: '127.0.0.1:0',
    minWorkers: 2,
    heartbeatTimeoutMs: 10_000,
    ...(natsUrl === undefined ? {} : { nats: { url: natsUrl, prefix } }),
    metrics: () => ({
      ...noopCoordinatorMetrics,
      round: () => void rounds++,
      rebalance: (e) => events.push({ ...(e as RebalanceEvent), atMs: nowMs() }),
    }),
  });
  const dial = natsUrl === undefined ? ['--coordinator', coord.server.address] : ['--nats', natsUrl, '--nats-prefix', prefix];
  const workers = [spawnWorker(dial, 'el-0'), spawnWorker(dial, 'el-1')];
  try {
    await until(() => coord.eligibleWorkers().length === 2, 30_000, 'two workers');
    const rec = coord.jobs.submit(spec);
    const round = (): number => rounds;
    await until(() => round() >= 500, 60_000, 'the job to run 500 rounds');

    const tSpawn = nowMs();
    workers.push(spawnWorker(dial, 'el-2'));
    await until(() => coord.eligibleWorkers().length === 3, 30_000, 'the third worker to register');
    const tRegistered = nowMs();
    const roundAtRegister = round();
    await until(() => events.length >= 1, 30_000, 'the join rebalance');
    const join = events[0]!;

    await until(() => round() >= join.round + 200, 60_000, 'the job to go on after the join');
    const tTerm = nowMs();
    workers[0]!.child.kill('SIGTERM');
    await until(() => events.length >= 2, 60_000, 'the leave rebalance');
    const leave = events[1]!;
    const code = await workers[0]!.exited;
    const tExit = nowMs();
    const doc = await coord.jobs.wait(rec.id);
    if (doc.status !== 'SUCCEEDED') throw new Error(`elastic bench job ${doc.status}: ${doc.error?.message ?? ''}`);
    return {
      transport,
      joinRegisterMs: tRegistered - tSpawn,
      joinEffectMs: join.atMs - tRegistered,
      joinRoundsUntilMoved: join.round - roundAtRegister,
      joinRebalanceMs: join.seconds * 1000,
      joinShardsMoved: join.shardsMoved,
      joinStateBytes: join.stateBytes,
      leaveMovedMs: leave.atMs - tTerm,
      leaveExitMs: tExit - tTerm,
      leaveExitCode: code,
      leaveRebalanceMs: leave.seconds * 1000,
      leaveShardsMoved: leave.shardsMoved,
      rounds: doc.final!.rounds,
      matchesInProcess: bitIdentical(Float64Array.from(doc.final!.x), reference),
    };
  } finally {
    await coord.close(500).catch(() => undefined);
    await Promise.all(workers.map((w) => stopChild(w.child, 3000)));
  }
}

export async function runElastic(log: (s: string) => void): Promise<ElasticResult[]> {
  const spec = validateJobSpec(ELASTIC_JOB);
  log('elastic: the undisturbed in-process run…');
  const ref = await runJob(
    'ref',
    spec,
    new ShardedCluster([new InProcessEndpoint('solo', new ShardHost(new DirectExecutor()))]),
    spec.shards!,
  );
  const reference = Float64Array.from(ref.final.x);
  const out: ElasticResult[] = [];
  log('elastic: gRPC, 2 workers, join a 3rd, SIGTERM one…');
  out.push(await measureOne(spec, 'grpc', reference));
  log('elastic: NATS (if nats-server is on PATH)…');
  const nats = await withNatsServer((url) => measureOne(spec, 'nats', reference, url));
  if (nats === undefined) log('elastic: nats-server not on PATH, NATS row skipped');
  else out.push(nats);
  return out;
}
