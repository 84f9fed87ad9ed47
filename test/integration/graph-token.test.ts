/**
 * graph-token / sa-srrw end to end through `optfleet run`: tokens walking across 3 gRPC worker
 * processes reproduce the in-process trajectories bit for bit (every token's θ, hops and
 * crossings), and bad graphs or parameters fail with exit 2 naming the field or the file line.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobResultDoc } from '@optfleet/coordinator';
import { runCli, tempDir, writeSpec } from '../helpers/cli.js';
import { bits } from '../helpers/bits.js';

const job = {
  name: 'srrw-int',
  seed: 99,
  shards: 5,
  problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: 80 }, loss: 'logistic', points: 4, features: 3 },
  algorithm: { name: 'sa-srrw', alpha: [0, 3], a: 0.7, b: 1, tokens: 3, steps: 1500 },
};

describe('graph-token jobs', () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    tmp = await tempDir();
  });
  afterAll(async () => tmp.cleanup());

  it('tokens crossing 3 gRPC workers walk the in-process trajectories bit for bit', async () => {
    const spec = await writeSpec(tmp.dir, 'walk.json', job);
    const docs: JobResultDoc[] = [];
    for (const flags of [
      ['--transport', 'inprocess', '--workers', '1'],
      ['--transport', 'grpc', '--workers', '3'],
    ]) {
      const out = join(tmp.dir, `walk-${flags[1]}.json`);
      const r = await runCli(['run', spec, ...flags, '--out', out, '--json']);
      expect(r.code, r.stderr).toBe(0);
      docs.push(JSON.parse(await readFile(out, 'utf8')) as JobResultDoc);
    }
    const [a, b] = docs as [JobResultDoc, JobResultDoc];
    expect(a.status).toBe('SUCCEEDED');
    expect(a.final!.x.length).toBe(6 * 3);
    expect(bits(b.final!.x)).toBe(bits(a.final!.x));
    expect(b.final!.hops).toBe(a.final!.hops);
    expect(b.final!.crossings).toBe(a.final!.crossings);
    expect(a.final!.hops).toBe(6 * 1500);
    // In-process one worker holds every shard: tokens walk to the end without a handoff.
    expect(a.final!.crossings).toBeGreaterThan(50);
    expect(a.final!.handoffs).toBe(0);
    // 5 shards over 3 workers: tokens really were handed between worker processes, many times.
    expect(b.final!.handoffs).toBeGreaterThan(50);
    expect(b.final!.handoffs).toBeLessThan(b.final!.crossings!);
    expect(b.final!.rounds).toBeGreaterThan(10);
    expect(b.final!.bytesSent).toBeGreaterThan(0);
    expect(b.cluster.workers).toBe(3);
    expect(b.final!.perAlpha!.map((p) => p.alpha)).toEqual([0, 3]);
    expect(b.final!.perAlpha).toEqual(a.final!.perAlpha);
    // Tokens pause at the same step counts everywhere: the MSE history is the same bits too.
    const trace = (d: JobResultDoc) => d.history.map((h) => [h.iteration, h.oracleCalls, bits(h.mse!)]);
    expect(trace(b)).toEqual(trace(a));
    expect(a.history.map((h) => h.iteration).slice(0, 3)).toEqual([10, 13, 18]);
    expect(a.history.at(-1)!.iteration).toBe(1500);
    expect(a.history.at(-1)!.oracleCalls).toBe(6 * 1500);
    for (const p of a.final!.perAlpha!) expect(p.theory).toBeGreaterThan(0);
  });

  const bad: Array<[string, (dir: string) => Promise<unknown>, RegExp]> = [
    [
      'α < 0',
      () => Promise.resolve({ ...job, algorithm: { ...job.algorithm, alpha: [1, -2] } }),
      /spec\.algorithm\.alpha\[1\]: must be ≥ 0/,
    ],
    ['a ≤ ½', () => Promise.resolve({ ...job, algorithm: { ...job.algorithm, a: 0.5 } }), /spec\.algorithm\.a: must be > 0\.5/],
    ['b > 1', () => Promise.resolve({ ...job, algorithm: { ...job.algorithm, b: 1.2 } }), /spec\.algorithm\.b: must be ≤ 1/],
    [
      'disconnected edge list',
      async (dir) => {
        await writeFile(join(dir, 'two.txt'), '# two triangles\n0 1\n1 2\n2 0\n3 4\n4 5\n5 3\n');
        return { ...job, shards: 2, problem: { kind: 'graph-token', graph: { source: 'file', path: join(dir, 'two.txt') } } };
      },
      /two\.txt\): the graph is not connected \(2 components; node 3 cannot be reached from node 0\)/,
    ],
    [
      'unknown node id',
      async (dir) => {
        await writeFile(join(dir, 'unk.txt'), '# Nodes: 3 Edges: 3\n0 1\n1 2\n2 7\n');
        return { ...job, shards: 1, problem: { kind: 'graph-token', graph: { source: 'file', path: join(dir, 'unk.txt') } } };
      },
      /unk\.txt:4: node id 7 is unknown: the header \(line 1\) declares 3 nodes/,
    ],
    [
      'empty graph',
      async (dir) => {
        await writeFile(join(dir, 'empty.txt'), '# nothing here\n\n');
        return { ...job, shards: 1, problem: { kind: 'graph-token', graph: { source: 'file', path: join(dir, 'empty.txt') } } };
      },
      /empty\.txt: no edges \(an empty graph\)/,
    ],
    [
      'malformed line',
      async (dir) => {
        await writeFile(join(dir, 'bad.txt'), '0 1\n1 x\n');
        return { ...job, shards: 1, problem: { kind: 'graph-token', graph: { source: 'file', path: join(dir, 'bad.txt') } } };
      },
      /bad\.txt:2: node id "x" is not a non-negative integer/,
    ],
    [
      'token records over the per-round limit',
      () =>
        Promise.resolve({
          ...job,
          shards: 2,
          problem: { kind: 'graph-token', graph: { source: 'rgg', nodes: 2000 }, visits: 'token' },
          algorithm: { ...job.algorithm, alpha: [1], tokens: 5000, steps: 10 },
        }),
      /spec\.algorithm\.tokens: 5000 tokens × 2011 values .* over the per-round limit of 10000000/,
    ],
  ];

  for (const [label, make, message] of bad) {
    it(`${label} → exit 2 naming the field or line`, async () => {
      const p = await writeSpec(tmp.dir, `${label.replace(/[^a-z]/gi, '-')}.json`, await make(tmp.dir));
      const r = await runCli(['run', p, '--transport', 'inprocess']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/INVALID_ARGUMENT/);
      expect(r.stderr).toMatch(message);
    });
  }
});
