import { describe, expect, it } from 'vitest';
import { parseJobSpec, validateJobSpec } from './job-spec.js';
import { type OptfleetError } from './errors.js';

const good = {
  name: 'ok',
  problem: { kind: 'logistic', data: { source: 'synthetic', n: 100, d: 5 } },
  algorithm: { name: 'svrg' },
};

function err(v: unknown): OptfleetError {
  try {
    validateJobSpec(v);
  } catch (e) {
    return e as OptfleetError;
  }
  throw new Error('expected an error');
}

describe('job spec', () => {
  it('fills documented defaults', () => {
    const s = validateJobSpec(good);
    expect(s.seed).toBe(0);
    expect(s.problem).toMatchObject({ kind: 'logistic', l2: 0 });
    expect(s.algorithm).toMatchObject({ name: 'svrg', batchSize: 64 });
    expect(s.stop).toEqual({ gradNorm: 1e-8, residual: 1e-8, maxRounds: 100_000, maxSeconds: 3600 });
  });

  it('parses YAML and JSON', () => {
    expect(parseJobSpec(JSON.stringify(good)).name).toBe('ok');
    expect(
      parseJobSpec('name: y\nproblem: {kind: least-squares, data: {source: synthetic, n: 3, d: 2}}\nalgorithm: {name: lbfgs}\n').algorithm
        .name,
    ).toBe('lbfgs');
  });

  it('rejects unknown fields by path', () => {
    const e = err({ ...good, algorithm: { name: 'svrg', stepsize: 0.1 } });
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/spec\.algorithm\.stepsize: unknown field/);
    expect(err({ ...good, colour: 1 }).message).toMatch(/spec\.colour: unknown field/);
  });

  it('rejects wrong types naming the field', () => {
    expect(err({ ...good, seed: 'x' }).message).toMatch(/spec\.seed: expected number, got string "x"/);
    expect(err({ ...good, problem: { ...good.problem, kind: 'svm' } }).message).toMatch(/spec\.problem\.kind/);
  });

  it('rejects zero, negative and absurd sizes with the limit', () => {
    expect(err({ ...good, problem: { ...good.problem, data: { source: 'synthetic', n: 0, d: 5 } } }).message).toMatch(
      /spec\.problem\.data\.n: must be ≥ 1/,
    );
    expect(err({ ...good, problem: { ...good.problem, data: { source: 'synthetic', n: 10, d: -3 } } }).message).toMatch(
      /spec\.problem\.data\.d: must be ≥ 1/,
    );
    expect(err({ ...good, shards: 1e9 }).message).toMatch(/spec\.shards: must be ≤ 4096 \(documented limit\)/);
    expect(err({ ...good, problem: { ...good.problem, data: { source: 'synthetic', n: 1e12, d: 5 } } }).message).toMatch(
      /spec\.problem\.data\.n: must be ≤ 100000000/,
    );
    expect(err({ ...good, problem: { ...good.problem, data: { source: 'synthetic', n: 1e8, d: 1e6 } } }).message).toMatch(
      /n·d = .* is over the limit of 2000000000 dense elements/,
    );
    expect(err({ ...good, algorithm: { name: 'svrg', batchSize: 1000 } }).message).toMatch(
      /spec\.algorithm\.batchSize: 1000 is over n = 100/,
    );
    expect(err({ ...good, stop: { maxRounds: 0 } }).message).toMatch(/spec\.stop\.maxRounds: must be ≥ 1/);
  });

  it('validates the L-SVRG, SARAH and PAGE parameters', () => {
    const alg = (algorithm: Record<string, unknown>) => validateJobSpec({ ...good, algorithm }).algorithm;
    expect(alg({ name: 'lsvrg' })).toEqual({ name: 'lsvrg', batchSize: 64 });
    expect(alg({ name: 'sarah' })).toEqual({ name: 'sarah', batchSize: 64 });
    expect(alg({ name: 'page' })).toEqual({ name: 'page', driftCheck: false });
    expect(alg({ name: 'page', batchSize: 10, p: 1, stepSize: 0.5 })).toEqual({
      name: 'page',
      batchSize: 10,
      p: 1,
      stepSize: 0.5,
      driftCheck: false,
    });
    expect(err({ ...good, algorithm: { name: 'lsvrg', p: 0 } }).message).toMatch(/spec\.algorithm\.p: must be > 0/);
    expect(err({ ...good, algorithm: { name: 'page', p: 1.5 } }).message).toMatch(/spec\.algorithm\.p: must be ≤ 1/);
    expect(err({ ...good, algorithm: { name: 'sarah', innerSteps: 0 } }).message).toMatch(/spec\.algorithm\.innerSteps: must be ≥ 1/);
    for (const name of ['lsvrg', 'sarah', 'page']) {
      expect(err({ ...good, algorithm: { name, batchSize: 101 } }).message).toMatch(/spec\.algorithm\.batchSize: 101 is over n = 100/);
    }
  });

  it('rejects NaN and non-finite numbers', () => {
    expect(err({ ...good, problem: { ...good.problem, l2: NaN } }).message).toMatch(/spec\.problem\.l2/);
    expect(() => parseJobSpec('name: a\nseed: .nan\n')).toThrowError(/spec\.seed/);
  });

  it('rejects a non-mapping document and bad YAML', () => {
    expect(() => parseJobSpec('- 1\n- 2\n', 'x.yaml')).toThrowError(/x\.yaml: expected a mapping/);
    expect(() => parseJobSpec('name: [unclosed', 'x.yaml')).toThrowError(/x\.yaml: not valid YAML\/JSON/);
  });

  it('operator problems take operator algorithms only, and Halpern methods need a cocoercive game', () => {
    const game = { name: 'g', problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 64, m: 3 } } };
    expect(validateJobSpec({ ...game, algorithm: { name: 'vr-halpern' } }).problem).toMatchObject({
      kind: 'bilinear-game',
      data: { mu: 0.1, sigma: 1 },
    });
    expect(err({ ...game, algorithm: { name: 'svrg' } }).message).toMatch(
      /spec\.algorithm\.name: svrg minimises a loss; bilinear-game is an operator problem: use one of halpern, vr-halpern, vr-halpern-forb, eg, eag/,
    );
    expect(err({ ...good, algorithm: { name: 'eg' } }).message).toMatch(
      /spec\.algorithm\.name: eg solves operator problems \(bilinear-game, matrix-game, dro-logistic\), not logistic/,
    );
    const monotone = { ...game, problem: { kind: 'bilinear-game', data: { source: 'synthetic', n: 64, m: 3, mu: 0 } } };
    expect(err({ ...monotone, algorithm: { name: 'vr-halpern' } }).message).toMatch(
      /vr-halpern needs a cocoercive operator, and problem\.data\.mu = 0/,
    );
    expect(validateJobSpec({ ...monotone, algorithm: { name: 'eag' } }).algorithm.name).toBe('eag');
    expect(err({ ...game, algorithm: { name: 'vr-halpern', stepSize: -1 } }).message).toMatch(/spec\.algorithm\.stepSize: must be > 0/);
    expect(err({ ...game, algorithm: { name: 'vr-halpern', batchSize: 65 } }).message).toMatch(
      /spec\.algorithm\.batchSize: 65 is over n = 64/,
    );
  });
});
