/**
 * Elastic placement against real ShardHosts (in-process endpoints): workers join and leave between
 * rounds, shards move with their sticky state (SAGA's per-row table), and the final iterate is
 * bit-identical to the undisturbed run. The cross-process version (NATS, SIGTERM) is in
 * test/integration/elastic.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { runJob, ShardedCluster, type Membership, type WorkerEndpoint } from '@optfleet/coordinator';
import { DirectExecutor, ShardHost } from '@optfleet/worker';
import { validateJobSpec } from '@optfleet/proto';
import { InProcessEndpoint } from './inprocess-endpoint.js';

function bits(x: Float64Array | number[]): string {
  return Buffer.from(Float64Array.from(x).buffer).toString('hex');
}

const endpoint = (id: string): InProcessEndpoint => new InProcessEndpoint(id, new ShardHost(new DirectExecutor()));

describe('elastic shard placement (in-process)', () => {
  for (const algorithm of [
    { name: 'saga', batchSize: 8, evalEvery: 40 },
    { name: 'svrg', batchSize: 8, innerSteps: 20 },
  ] as const) {
    it(`${algorithm.name}: joins and leaves mid-run move shards and sticky state; the iterate is bit-identical`, async () => {
      const spec = validateJobSpec({
        name: 'elastic',
        seed: 11,
        shards: 7,
        problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 700, d: 6 } },
        algorithm,
        stop: { maxRounds: 300, gradNorm: 0 },
      });
      const ref = await runJob('ref', spec, new ShardedCluster([endpoint('solo')]), 7);

      const pool = ['a', 'b', 'c', 'd'].map(endpoint);
      let members: WorkerEndpoint[] = [pool[0]!, pool[1]!];
      const membership: Membership = { eligible: () => members };
      const cluster = new ShardedCluster(membership);
      let rounds = 0;
      const out = await runJob('el', spec, cluster, 7, {
        onRound: () => {
          rounds++;
          // Between rounds: c joins, a drains, d joins, b drains.
          if (rounds === 20) members = [pool[0]!, pool[1]!, pool[2]!];
          if (rounds === 60) members = [pool[1]!, pool[2]!];
          if (rounds === 100) members = [pool[1]!, pool[2]!, pool[3]!];
          if (rounds === 150) members = [pool[2]!, pool[3]!];
        },
      });
      expect(bits(out.final.x)).toBe(bits(ref.final.x));
      expect(out.final.oracleCalls).toBe(ref.final.oracleCalls);
      const ev = cluster.rebalances();
      expect(ev.map((e) => e.round)).toEqual([20, 60, 100, 150]);
      expect(ev.every((e) => e.shardsMoved > 0)).toBe(true);
      if (algorithm.name === 'saga') expect(ev.some((e) => e.stateBytes > 0)).toBe(true);
      // The drained workers hold nothing; the survivors hold every shard between them.
      const held = (w: InProcessEndpoint): number => (w as unknown as { host: ShardHost }).host.holdings().shards;
      expect(held(pool[0]!)).toBe(0);
      expect(held(pool[1]!)).toBe(0);
    });
  }
});

describe('elastic shard placement: SA-SRRW tokens (in-process)', () => {
  it('workers joining and leaving between token-walk rounds move the interior visit state; every θ is bit-identical', async () => {
    const spec = validateJobSpec({
      name: 'elastic-srrw',
      seed: 13,
      shards: 6,
      problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: 60 }, loss: 'logistic', points: 4, features: 3 },
      algorithm: { name: 'sa-srrw', alpha: [0, 4], tokens: 2, steps: 800, hopsPerRound: 50 },
      stop: { maxRounds: 100000 },
    });
    const ref = await runJob('ref', spec, new ShardedCluster([endpoint('solo')]), 6);
    const pool = ['a', 'b', 'c'].map(endpoint);
    let members: WorkerEndpoint[] = [pool[0]!, pool[1]!];
    const cluster = new ShardedCluster({ eligible: () => members });
    let rounds = 0;
    const out = await runJob('el', spec, cluster, 6, {
      onRound: () => {
        rounds++;
        if (rounds === 2) members = [pool[0]!, pool[1]!, pool[2]!];
        if (rounds === 4) members = [pool[1]!, pool[2]!];
      },
    });
    expect(rounds).toBeGreaterThan(4);
    expect(bits(out.final.x)).toBe(bits(ref.final.x));
    const ev = cluster.rebalances();
    expect(ev.map((e) => e.round)).toEqual([2, 4]);
    expect(ev.some((e) => e.stateBytes > 0)).toBe(true);
  });
});

describe('elastic shard placement: BSVRB blocks (in-process)', () => {
  for (const name of ['bsvrb-v1', 'bsvrb-v2'] as const) {
    it(`${name}: per-block y, trackers and MSVR memory move with their shards; the iterate is bit-identical`, async () => {
      const spec = validateJobSpec({
        name: `elastic-${name}`,
        seed: 17,
        shards: 7,
        problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 21, d: 12, dy: 4, n: 40, nf: 30 } },
        algorithm: { name, I: 5, B: 8, evalEvery: 25 },
        stop: { maxRounds: 120, gradNorm: 0 },
      });
      const ref = await runJob('ref', spec, new ShardedCluster([endpoint('solo')]), 7);
      const pool = ['a', 'b', 'c'].map(endpoint);
      let members: WorkerEndpoint[] = [pool[0]!, pool[1]!];
      const cluster = new ShardedCluster({ eligible: () => members });
      let rounds = 0;
      const out = await runJob('el', spec, cluster, 7, {
        onRound: () => {
          rounds++;
          if (rounds === 30) members = [pool[0]!, pool[1]!, pool[2]!];
          if (rounds === 70) members = [pool[1]!, pool[2]!];
        },
      });
      expect(bits(out.final.x)).toBe(bits(ref.final.x));
      const ev = cluster.rebalances();
      expect(ev.map((e) => e.round)).toEqual([30, 70]);
      expect(ev.every((e) => e.stateBytes > 0)).toBe(true);
    });
  }
});
