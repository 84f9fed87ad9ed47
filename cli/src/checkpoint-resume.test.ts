/**
 * Checkpoint and resume against real ShardHosts (in-process endpoints), for every algorithm: a
 * run is stopped mid-way after checkpointing at every round boundary, then resumed from the last
 * checkpoint on a fresh cluster with another number of workers. The resumed run must end with the
 * bits, counters and history of the uninterrupted run. The cross-process version (a coordinator
 * SIGKILLed and restarted, the job coming back from the NATS queue) is test/integration/resume.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore, runJob, ShardedCluster } from '@optfleet/coordinator';
import { DirectExecutor, ShardHost } from '@optfleet/worker';
import { ERROR_CODES, validateJobSpec } from '@optfleet/proto';
import { InProcessEndpoint } from './inprocess-endpoint.js';

function bits(x: readonly number[]): string {
  return Buffer.from(Float64Array.from(x).buffer).toString('hex');
}

const cluster = (n: number, tag: string): ShardedCluster =>
  new ShardedCluster(Array.from({ length: n }, (_, i) => new InProcessEndpoint(`${tag}-${i}`, new ShardHost(new DirectExecutor()))));

const game = { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0.5, sigma: 1 } };
const JOBS: Record<string, object> = {
  svrg: { algorithm: { name: 'svrg', batchSize: 16, innerSteps: 50 }, stop: { maxRounds: 200, gradNorm: 0 } },
  lbfgs: { algorithm: { name: 'lbfgs' }, stop: { maxRounds: 40, gradNorm: 0 } },
  saga: { algorithm: { name: 'saga', batchSize: 10, evalEvery: 50 }, stop: { maxRounds: 200, gradNorm: 0 } },
  sgd: { algorithm: { name: 'sgd', batchSize: 10, evalEvery: 50 }, stop: { maxRounds: 200, gradNorm: 0 } },
  lsvrg: { algorithm: { name: 'lsvrg', batchSize: 16, p: 0.02 }, stop: { maxRounds: 200, gradNorm: 0 } },
  sarah: { algorithm: { name: 'sarah', batchSize: 16, innerSteps: 50 }, stop: { maxRounds: 200, gradNorm: 0 } },
  page: { algorithm: { name: 'page' }, stop: { maxRounds: 200, gradNorm: 0 } },
  halpern: { problem: game, algorithm: { name: 'halpern', stepSize: 0.3 }, stop: { maxRounds: 200, residual: 0 } },
  'vr-halpern': { problem: game, algorithm: { name: 'vr-halpern', stepSize: 0.2 }, stop: { maxRounds: 200, residual: 0 } },
  eg: { problem: game, algorithm: { name: 'eg', stepSize: 0.3 }, stop: { maxRounds: 200, residual: 0 } },
  eag: { problem: game, algorithm: { name: 'eag', stepSize: 0.2 }, stop: { maxRounds: 200, residual: 0 } },
  'vr-halpern-forb': {
    problem: { ...game, data: { ...game.data, mu: 0 } },
    algorithm: { name: 'vr-halpern-forb' },
    stop: { maxRounds: 200, residual: 0 },
  },
  'dro-logistic eg': {
    problem: { kind: 'dro-logistic', l2: 0.01, data: { source: 'synthetic', n: 50, d: 4 } },
    algorithm: { name: 'eg', stepSize: 0.5 },
    stop: { maxRounds: 200, residual: 0 },
  },
  'bsvrb-v1': {
    problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 21, d: 12, dy: 4, n: 40, nf: 30 } },
    algorithm: { name: 'bsvrb-v1', I: 5, B: 8, evalEvery: 25 },
    stop: { maxRounds: 120, gradNorm: 0 },
  },
  'bsvrb-v2 update all': {
    problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 21, d: 12, dy: 4, n: 40, nf: 30 } },
    algorithm: { name: 'bsvrb-v2', I: 5, B: 8, evalEvery: 25, update: 'all', blockSampling: 'reshuffle' },
    stop: { maxRounds: 120, gradNorm: 0 },
  },
  'stoch-bilevel ridge': {
    problem: { kind: 'mbbo-ridge', data: { source: 'synthetic', m: 21, d: 12, n: 30, nv: 30 } },
    algorithm: { name: 'stoch-bilevel', I: 5, B: 8, evalEvery: 25 },
    stop: { maxRounds: 120, gradNorm: 0 },
  },
  'bsvrb-v2 hyperclean': {
    problem: { kind: 'mbbo-hyperclean', data: { source: 'synthetic', m: 9, features: 4, nTrain: 12, nVal: 40 } },
    algorithm: { name: 'bsvrb-v2', I: 4, B: 8, eta: 2, evalEvery: 25 },
    stop: { maxRounds: 120, gradNorm: 0 },
  },
  'matrix-game vr-halpern': {
    problem: { kind: 'matrix-game', data: { source: 'synthetic', n: 6 } },
    shards: 5,
    algorithm: { name: 'vr-halpern', stepSize: 0.5 },
    stop: { maxRounds: 200, residual: 0 },
  },
};

describe('checkpoint and resume (in-process)', () => {
  for (const [key, job] of Object.entries(JOBS)) {
    it(`${key}: stopped at round 37 and resumed on 3 workers = the uninterrupted run on 2, bit for bit`, async () => {
      const spec = validateJobSpec({
        name: `cp-${key.replace(/ /g, '-')}`,
        seed: 424242,
        shards: 7,
        problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 1500, d: 10 } },
        ...job,
      });
      const S = spec.shards!;
      const ref = await runJob('j', spec, cluster(2, 'ref'), S);

      const store = new MemoryCheckpointStore();
      const ac = new AbortController();
      let n = 0;
      const stopped = runJob('j', spec, cluster(2, 'first'), S, {
        signal: ac.signal,
        onRound: () => {
          if (++n === 37) ac.abort();
        },
        checkpoint: { store, everySeconds: 0 },
      });
      await expect(stopped).rejects.toMatchObject({ code: ERROR_CODES.CANCELLED });
      const cp = await store.load('j');
      expect(cp).not.toBeNull();
      expect(cp!.runner.rounds).toBe(36);
      expect(store.saves).toBe(37); // rounds 0..36

      const resumed = await runJob('j', spec, cluster(3, 'second'), S, { checkpoint: { store, everySeconds: 1e9, resume: cp } });
      expect(resumed.resumedFrom?.round).toBe(36);
      expect(bits(resumed.final.x)).toBe(bits(ref.final.x));
      // Everything but wall-clock seconds must match.
      const noTime = <T extends { seconds: number }>(o: T): Omit<T, 'seconds'> & { seconds: 0 } => ({ ...o, seconds: 0 });
      expect(noTime(resumed.final)).toEqual(noTime(ref.final));
      expect(resumed.history.map(noTime)).toEqual(ref.history.map(noTime));
    });
  }

  it('a checkpoint survives its own encoding: NaN, ±Infinity and -0 in driver state, shards of any size', async () => {
    const { encodeCheckpoint, decodeCheckpoint } = await import('@optfleet/coordinator');
    const cp = {
      jobId: 'j',
      specJson: '{}',
      shardCount: 2,
      createdAtMs: 1,
      driver: { a: NaN, b: Infinity, c: -Infinity, d: -0, e: [1.5, -0, NaN], s: 'x' },
      runner: {
        rounds: 1,
        algRounds: 1,
        evalRounds: 0,
        oracleCalls: 2,
        evalCalls: 0,
        bytesSent: 0,
        bytesReceived: 0,
        firstGrad: NaN,
        lastAtIteration: -1,
        elapsedSeconds: 0.5,
        history: [],
        last: null,
      },
      shards: new Map<number, Record<string, Float64Array>>([
        [0, { 'saga.alpha': Float64Array.from([1, -0, NaN, 1e-300]) }],
        [1, {}],
      ]),
    };
    const back = decodeCheckpoint(encodeCheckpoint(cp));
    expect(Object.is(back.driver['d'], -0)).toBe(true);
    expect(back.driver['a']).toBeNaN();
    expect(back.driver['b']).toBe(Infinity);
    expect(back.driver['c']).toBe(-Infinity);
    expect(Object.is((back.driver['e'] as number[])[1], -0)).toBe(true);
    expect(back.runner.firstGrad).toBeNaN();
    const alpha = back.shards.get(0)!['saga.alpha']!;
    expect(bits(Array.from(alpha))).toBe(bits([1, -0, NaN, 1e-300]));
    expect(back.shards.get(1)).toBeUndefined(); // a shard without state has no slots
    expect(() => decodeCheckpoint(new Uint8Array(20))).toThrowError(/not an optfleet checkpoint/);
  });
});
