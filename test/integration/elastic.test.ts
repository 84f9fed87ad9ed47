/**
 * Elasticity across real processes: a SAGA job (its per-row table is sticky state on the workers)
 * starts on 2 workers, gains a 3rd mid-run (shards and their state move to it at the next round
 * boundary) and loses one by SIGTERM mid-run (it drains: its shards and state move to the others,
 * then it exits 0). The job completes with the final iterate of the undisturbed in-process run,
 * bit for bit. Over NATS the coordinator's membership is checked against the JetStream KV bucket
 * at each step; over gRPC the same join/drain runs through the worker channel.
 */
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { beforeAll, describe, expect, it } from 'vitest';
import { noopCoordinatorMetrics, startCoordinator, type JobResultDoc, type RebalanceEvent } from '@optfleet/coordinator';
import { natsNames, validateJobSpec } from '@optfleet/proto';
import { referenceRun, runCli, startCli, waitUntil, writeSpec } from '../helpers/cli.js';
import { useNatsServerAndTempDir } from '../helpers/nats-server.js';
import { bits } from '../helpers/bits.js';

const JOB = {
  name: 'elastic',
  seed: 21,
  shards: 6,
  problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 6000, d: 12 } },
  algorithm: { name: 'saga', batchSize: 8, evalEvery: 500 },
  // Long enough (seconds over a transport) for a worker to start, join and another to drain.
  stop: { maxRounds: 12000, gradNorm: 0 },
};

describe('workers join and leave a running job', () => {
  const env = useNatsServerAndTempDir();
  let reference: JobResultDoc;
  beforeAll(async () => {
    reference = await referenceRun(await writeSpec(env.dir, 'elastic.json', JOB), env.dir);
  });

  for (const transport of ['nats', 'grpc'] as const) {
    it(`${transport}: 2 workers, a 3rd joins mid-run, one leaves by SIGTERM mid-run: bit-identical to the undisturbed run`, async () => {
      const prefix = `elastic-${transport}-${process.pid}`;
      const events: RebalanceEvent[] = [];
      const coord = await startCoordinator({
        listen: '127.0.0.1:0',
        heartbeatTimeoutMs: 3000,
        minWorkers: 2,
        ...(transport === 'nats' ? { nats: { url: env.url, prefix } } : {}),
        metrics: () => ({ ...noopCoordinatorMetrics, rebalance: (e) => events.push(e as RebalanceEvent) }),
      });
      const dial = transport === 'nats' ? ['--nats', env.url, '--nats-prefix', prefix] : ['--coordinator', coord.server.address];
      const worker = (name: string): ReturnType<typeof startCli> =>
        startCli(['worker', ...dial, '--threads', '1', '--name', name, '--metrics-listen', 'off', '--drain-timeout', '30']);
      const workers = [worker('el-0'), worker('el-1')];
      const nc = transport === 'nats' ? await connect({ servers: env.url }) : undefined;
      const kvKeys = async (): Promise<string[]> => {
        const kv = await new Kvm(nc!).open(natsNames(prefix).workersBucket);
        const out: string[] = [];
        // keys() may repeat a key re-put (heartbeat) while it lists.
        for await (const k of await kv.keys()) if (!out.includes(k)) out.push(k);
        return out.sort();
      };
      const view = (): string[] =>
        coord
          .liveWorkers()
          .map((w) => w.id)
          .sort();
      try {
        await waitUntil(() => coord.eligibleWorkers().length === 2, 30_000, 'two workers');
        if (nc !== undefined) expect(view()).toEqual(await kvKeys());
        const rec = coord.jobs.submit(validateJobSpec(JOB));
        const round = (): number => coord.jobs.get(rec.id).progress?.round ?? 0;
        const state = (): string => {
          const j = coord.jobs.get(rec.id);
          return j.error === undefined ? j.state : `${j.state}: ${j.error.code} ${j.error.message}`;
        };
        await waitUntil(() => round() >= 200, 60_000, 'the job to make progress');

        // Join: the newcomer gets its share of shards (and their SAGA tables) at the next round boundary.
        workers.push(worker('el-2'));
        await waitUntil(() => events.length >= 1, 60_000, 'the join to move shards');
        expect(state(), 'the join must happen mid-run (make the job longer)').toBe('RUNNING');
        expect(events[0]!.joined).toHaveLength(1);
        expect(events[0]!.joined[0]).toContain('el-2');
        expect(events[0]!.shardsMoved).toBeGreaterThan(0);
        expect(events[0]!.stateBytes).toBeGreaterThan(0);
        expect(events[0]!.workers).toBe(3);
        if (nc !== undefined) expect(view()).toEqual(await kvKeys());

        // Leave: SIGTERM drains el-0 (its shards and state move away), then it exits 0.
        const roundAtTerm = round();
        workers[0]!.child.kill('SIGTERM');
        const left = await workers[0]!.done;
        expect(left.code, left.stderr + left.stdout).toBe(0);
        expect(left.stderr).toMatch(/drained: handed back [1-9]\d* shard\(s\)/);
        expect(state(), 'the leave must happen mid-run (make the job longer)').toBe('RUNNING');
        expect(events).toHaveLength(2);
        expect(events[1]!.left).toHaveLength(1);
        expect(events[1]!.left[0]).toContain('el-0');
        expect(events[1]!.round).toBeGreaterThanOrEqual(roundAtTerm);
        await waitUntil(() => coord.liveWorkers().length === 2, 10_000, 'the leave to be seen');
        if (nc !== undefined) expect(view()).toEqual(await kvKeys());
        // What users see: `optfleet workers` lists the same members, all live, with their transport.
        const listed = await runCli(['workers', '--coordinator', coord.server.address]);
        expect(listed.code, listed.stderr).toBe(0);
        const rows = listed.stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { id: string; name: string; state: string; transport: string });
        expect(rows.map((w) => w.id).sort()).toEqual(view());
        expect(rows.map((w) => w.name).sort()).toEqual(['el-1', 'el-2']);
        expect(rows.every((w) => w.state === 'live' && w.transport === transport)).toBe(true);

        const doc = await coord.jobs.wait(rec.id);
        expect(doc.status, JSON.stringify(doc.error)).toBe('SUCCEEDED');
        expect(doc.final!.rounds).toBe(reference.final!.rounds);
        expect(doc.final!.rounds).toBeGreaterThan(events[1]!.round);
        expect(bits(doc.final!.x)).toBe(bits(reference.final!.x));
        expect(doc.final!.oracleCalls).toBe(reference.final!.oracleCalls);
        expect(doc.cluster.rebalances).toHaveLength(2);
        if (process.env.OPTFLEET_TEST_DEBUG)
          console.log(
            transport,
            events.map((e) => [e.round, e.shardsMoved, e.stateBytes, e.seconds]),
          );
      } finally {
        for (const w of workers) w.child.kill('SIGKILL');
        await Promise.all(workers.map((w) => w.done));
        await nc?.close();
        await coord.close(200);
      }
    });
  }
});
