/**
 * The same seeded job gives a bit-identical final iterate in-process, on 1 and on 3 worker
 * processes over gRPC, and on 3 worker processes over NATS (a real nats-server), for every
 * algorithm and problem kind (minimisation, games, DRO, SA-SRRW token walks).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResultDoc } from '@optfleet/coordinator';
import { runCli, tempDir, writeSpec } from '../helpers/cli.js';
import { startNatsServer, type NatsServerHandle } from '../helpers/nats-server.js';
import { bits } from '../helpers/bits.js';

describe('bit-identical results whatever the transport and worker count', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let nats: NatsServerHandle;
  beforeAll(async () => {
    tmp = await tempDir();
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.stop();
    await tmp.cleanup();
  });

  const jobs = {
    svrg: { name: 'det-svrg', algorithm: { name: 'svrg', batchSize: 16, innerSteps: 50 }, stop: { maxRounds: 400, gradNorm: 0 } },
    lbfgs: { name: 'det-lbfgs', algorithm: { name: 'lbfgs' }, stop: { maxRounds: 40, gradNorm: 0 } },
    saga: { name: 'det-saga', algorithm: { name: 'saga', batchSize: 10, evalEvery: 50 }, stop: { maxRounds: 300, gradNorm: 0 } },
    sgd: { name: 'det-sgd', algorithm: { name: 'sgd', batchSize: 10, evalEvery: 50 }, stop: { maxRounds: 200, gradNorm: 0 } },
    lsvrg: { name: 'det-lsvrg', algorithm: { name: 'lsvrg', batchSize: 16, p: 0.02 }, stop: { maxRounds: 300, gradNorm: 0 } },
    sarah: { name: 'det-sarah', algorithm: { name: 'sarah', batchSize: 16, innerSteps: 50 }, stop: { maxRounds: 300, gradNorm: 0 } },
    page: { name: 'det-page', algorithm: { name: 'page' }, stop: { maxRounds: 300, gradNorm: 0 } },
    halpern: {
      name: 'det-halpern',
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0.5, sigma: 1 } },
      algorithm: { name: 'halpern', stepSize: 0.3 },
      stop: { maxRounds: 200, residual: 0 },
    },
    'vr-halpern': {
      name: 'det-vrh',
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0.5, sigma: 1 } },
      algorithm: { name: 'vr-halpern', stepSize: 0.2 },
      stop: { maxRounds: 300, residual: 0 },
    },
    eg: {
      name: 'det-eg',
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0.5, sigma: 1 } },
      algorithm: { name: 'eg', stepSize: 0.3 },
      stop: { maxRounds: 200, residual: 0 },
    },
    'vr-halpern-forb': {
      name: 'det-forb',
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0, sigma: 1 } },
      algorithm: { name: 'vr-halpern-forb' },
      stop: { maxRounds: 300, residual: 0 },
    },
    'dro-logistic eg': {
      name: 'det-dro',
      problem: { kind: 'dro-logistic', l2: 0.01, data: { source: 'synthetic', n: 50, d: 4 } },
      algorithm: { name: 'eg', stepSize: 0.5 },
      stop: { maxRounds: 200, residual: 0 },
    },
    'matrix-game vr-halpern': {
      name: 'det-mg',
      problem: { kind: 'matrix-game', data: { source: 'synthetic', n: 6 } },
      shards: 5,
      algorithm: { name: 'vr-halpern', stepSize: 0.5 },
      stop: { maxRounds: 300, residual: 0 },
    },
    'sa-srrw graph-token': {
      name: 'det-srrw',
      // 2 α values × 2 tokens × d = 3: the final x holds every token's θ (12 values).
      problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: 60 }, loss: 'logistic', points: 4, features: 3 },
      shards: 6,
      algorithm: { name: 'sa-srrw', alpha: [0, 4], tokens: 2, steps: 800 },
      stop: { maxRounds: 100000 },
    },
    'bsvrb-v1': {
      name: 'det-bsvrb-v1',
      problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 21, d: 12, dy: 4, n: 40, nf: 30 } },
      algorithm: { name: 'bsvrb-v1', I: 5, B: 8, evalEvery: 25 },
      stop: { maxRounds: 120, gradNorm: 0 },
    },
    'bsvrb-v2 update all': {
      name: 'det-bsvrb-v2',
      problem: { kind: 'mbbo-quadratic', data: { source: 'synthetic', m: 21, d: 12, dy: 4, n: 40, nf: 30 } },
      algorithm: { name: 'bsvrb-v2', I: 5, B: 8, evalEvery: 25, update: 'all', blockSampling: 'reshuffle' },
      stop: { maxRounds: 120, gradNorm: 0 },
    },
    'stoch-bilevel ridge': {
      name: 'det-stoch-bilevel',
      problem: { kind: 'mbbo-ridge', data: { source: 'synthetic', m: 21, d: 12, n: 30, nv: 30 } },
      algorithm: { name: 'stoch-bilevel', I: 5, B: 8, evalEvery: 25 },
      stop: { maxRounds: 120, gradNorm: 0 },
    },
    'bsvrb-v2 hyperclean': {
      name: 'det-bsvrb-hc',
      problem: { kind: 'mbbo-hyperclean', data: { source: 'synthetic', m: 9, features: 4, nTrain: 12, nVal: 40 } },
      algorithm: { name: 'bsvrb-v2', I: 4, B: 8, eta: 2, evalEvery: 25 },
      stop: { maxRounds: 120, gradNorm: 0 },
    },
    eag: {
      name: 'det-eag',
      problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 300, m: 6, mu: 0.5, sigma: 1 } },
      algorithm: { name: 'eag', stepSize: 0.2 },
      stop: { maxRounds: 200, residual: 0 },
    },
  };

  for (const [key, job] of Object.entries(jobs)) {
    it(`${key}: in-process = 1 worker = 3 workers over gRPC = 3 workers over NATS`, async () => {
      const spec = await writeSpec(tmp.dir, `${key}.json`, {
        seed: 31337,
        shards: 7,
        problem: { kind: 'logistic', l2: 1e-3, data: { source: 'synthetic', n: 3000, d: 12 } },
        ...job,
      });
      const runs: Array<[string, string[]]> = [
        ['inprocess', ['--transport', 'inprocess', '--workers', '1']],
        ['grpc-1', ['--transport', 'grpc', '--workers', '1']],
        ['grpc-3', ['--transport', 'grpc', '--workers', '3']],
        ['nats-3', ['--transport', 'nats', '--nats', nats.url, '--workers', '3']],
      ];
      const docs: JobResultDoc[] = [];
      for (const [label, flags] of runs) {
        const out = join(tmp.dir, `${key}-${label}.json`);
        const r = await runCli(['run', spec, ...flags, '--out', out, '--json']);
        expect(r.code, `${label}: ${r.stderr}`).toBe(0);
        docs.push(JSON.parse(await readFile(out, 'utf8')) as JobResultDoc);
      }
      const [a, b, c, d] = docs as [JobResultDoc, JobResultDoc, JobResultDoc, JobResultDoc];
      expect(a.final!.x.length).toBe(key.startsWith('dro') ? 54 : 12);
      expect(bits(b.final!.x)).toBe(bits(a.final!.x));
      expect(bits(c.final!.x)).toBe(bits(a.final!.x));
      expect(bits(d.final!.x)).toBe(bits(a.final!.x));
      expect(d.cluster.transport).toBe('nats');
      expect(c.final!.oracleCalls).toBe(a.final!.oracleCalls);
      expect(c.history.map((h) => h.objective ?? h.residual)).toEqual(a.history.map((h) => h.objective ?? h.residual));
      expect(c.cluster.workers).toBe(3);
    });
  }
});
