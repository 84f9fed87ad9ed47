/** Graph sources, validation, base chains and the locality-aware partition. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseJobSpec, validateJobSpec } from '../job-spec.js';
import { buildGraph } from './source.js';
import { baseChain, validateChain } from './chain.js';
import { parseEdgeList } from './edge-list.js';
import { g12Graph } from './g12.js';
import { components, graphFromEdges, isBipartite } from './graph.js';
import { partitionGraph, visitLayout } from './partition.js';
import { rggGraph, rggRadius } from './rgg.js';

describe('graphs', () => {
  it('g12: 12 nodes, 17 edges, connected, not bipartite; MHRW diagonal as in spec §4(a)', () => {
    const g = g12Graph();
    expect([g.n, g.edges, components(g).count, isBipartite(g)]).toEqual([12, 17, 1, false]);
    const c = baseChain(g, 'mhrw');
    const diag = Array.from({ length: 12 }, (_, i) => c.prob[c.rowPtr[i]!]!);
    const want = [0.4167, 0.0833, 0, 0.0833, 0.0833, 0.3333, 0.0833, 0.0833, 0, 0.0833, 0.0833, 0.6667];
    diag.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(5e-5));
    for (let i = 0; i < 12; i++) {
      let s = 0;
      for (let e = c.rowPtr[i]!; e < c.rowPtr[i + 1]!; e++) s += c.prob[e]!;
      expect(Math.abs(s - 1)).toBeLessThan(1e-15);
    }
  });

  it('rgg: seeded, connected (resampled until it is), edges within the radius', () => {
    const a = rggGraph(300, 4);
    const b = rggGraph(300, 4);
    expect(Array.from(a.adj)).toEqual(Array.from(b.adj));
    expect(components(a).count).toBe(1);
    const r = rggRadius(300);
    for (let i = 0; i < a.n; i++) {
      for (let e = a.ptr[i]!; e < a.ptr[i + 1]!; e++) {
        const j = a.adj[e]!;
        expect(Math.hypot(a.pos![2 * i]! - a.pos![2 * j]!, a.pos![2 * i + 1]! - a.pos![2 * j + 1]!)).toBeLessThanOrEqual(r);
      }
    }
    expect(rggGraph(300, 5).adj).not.toEqual(a.adj);
    expect(() => rggGraph(200, 1, 0.01)).toThrowError(/problem\.graph\.radius: 0\.01 gave a disconnected graph/);
  });

  it('edge lists: SNAP format, ids renumbered in ascending order, line-numbered errors', () => {
    const g = parseEdgeList('# Directed graph\n# Nodes: 4 Edges: 4\n10\t20\n20 30 extra\n30 10\n30 40\n10 20\n', 'f.txt');
    expect(g.n).toBe(4);
    expect(g.edges).toBe(4); // the repeated 10-20 edge is merged
    expect(() => parseEdgeList('0 1\n1\n', 'f.txt')).toThrowError(/f\.txt:2: expected two node ids/);
    expect(() => parseEdgeList('0 1\n1 -2\n', 'f.txt')).toThrowError(/f\.txt:2: node id "-2" is not a non-negative integer/);
    expect(() => parseEdgeList('0 1\n2 2\n', 'f.txt')).toThrowError(/f\.txt:2: self-loop at node 2/);
    expect(() => parseEdgeList('# Nodes: 2\n0 1\n1 5\n', 'f.txt')).toThrowError(
      /f\.txt:3: node id 5 is unknown: the header \(line 1\) declares 2 nodes/,
    );
    expect(() => parseEdgeList('# only comments\n', 'f.txt')).toThrowError(/f\.txt: no edges \(an empty graph\)/);
    expect(() => graphFromEdges(0, new Int32Array(0), new Int32Array(0), 'x')).toThrowError(/x: the graph is empty/);
  });

  it('bipartite graphs: srw is refused as periodic; mhrw only when it holds somewhere', () => {
    // A path 0-1-2-3 is bipartite; MHRW holds at the leaves (degree 1 vs 2), SRW never holds.
    const path = graphFromEdges(4, Int32Array.from([0, 1, 2]), Int32Array.from([1, 2, 3]), 'p');
    expect(isBipartite(path)).toBe(true);
    expect(() => validateChain(path, baseChain(path, 'srw'), 'srw', [0])).toThrowError(/bipartite, so the srw walk is periodic/);
    expect(() => validateChain(path, baseChain(path, 'mhrw'), 'mhrw', [0])).not.toThrow();
    // An even cycle is regular: MHRW never holds either.
    const cyc = graphFromEdges(4, Int32Array.from([0, 1, 2, 3]), Int32Array.from([1, 2, 3, 0]), 'c');
    expect(() => validateChain(cyc, baseChain(cyc, 'mhrw'), 'mhrw', [0])).toThrowError(/periodic/);
  });

  it('partition: balanced, local (far fewer cut edges than a hash placement), boundary = nodes with a remote neighbour', () => {
    const g = rggGraph(500, 3);
    for (const shards of [2, 4, 7]) {
      const of = partitionGraph(g, shards);
      const sizes = new Array<number>(shards).fill(0);
      for (const s of of) sizes[s]!++;
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      let cut = 0;
      let hashCut = 0;
      for (let i = 0; i < g.n; i++) {
        for (let e = g.ptr[i]!; e < g.ptr[i + 1]!; e++) {
          if (of[g.adj[e]!] !== of[i]) cut++;
          if (g.adj[e]! % shards !== i % shards) hashCut++;
        }
      }
      expect(cut).toBeLessThan(hashCut / 4);
      const v = visitLayout(g, of, shards, 'split');
      let boundary = 0;
      for (let i = 0; i < g.n; i++) {
        let remote = false;
        for (let e = g.ptr[i]!; e < g.ptr[i + 1]!; e++) remote ||= of[g.adj[e]!] !== of[i];
        expect(v.slot[i]! >= 0).toBe(remote);
        if (remote) boundary++;
      }
      expect(v.boundary).toBe(boundary);
      expect(visitLayout(g, of, shards, 'token').boundary).toBe(g.n);
    }
    // Graph-growing for graphs without positions: still balanced.
    const of = partitionGraph(g12Graph(), 3);
    expect(Array.from(of)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

describe('graph-token job spec', () => {
  const spec = (alg: Record<string, unknown>, problem: Record<string, unknown> = {}) => ({
    name: 's',
    problem: { kind: 'graph-token', graph: { source: 'g12' }, ...problem },
    algorithm: { name: 'sa-srrw', steps: 10, ...alg },
  });
  it('defaults and a scalar α', () => {
    const s = validateJobSpec(spec({ alpha: 2 }));
    expect(s.algorithm).toMatchObject({ alpha: [2], a: 0.7, b: 1, tokens: 16, walk: 'mhrw' });
  });
  it('names the field of every bad value', () => {
    expect(() => validateJobSpec(spec({ alpha: [-1] }))).toThrowError(/spec\.algorithm\.alpha\[0\]: must be ≥ 0/);
    expect(() => validateJobSpec(spec({ alpha: 1, a: 0.4 }))).toThrowError(/spec\.algorithm\.a: must be > 0\.5/);
    expect(() => validateJobSpec(spec({ alpha: 1, b: 1.01 }))).toThrowError(/spec\.algorithm\.b: must be ≤ 1/);
    expect(() => validateJobSpec(spec({ alpha: 1, walk: 'nbrw' }))).toThrowError(
      /spec\.algorithm\.alpha: the nbrw baseline .* alpha 0 only/,
    );
    expect(() => validateJobSpec({ ...spec({ alpha: 1 }), shards: 13 })).toThrowError(/spec\.shards: 13 shards for only 12 agents/);
    expect(() => validateJobSpec({ ...spec({ alpha: 1 }), algorithm: { name: 'lbfgs' } })).toThrowError(
      /graph-token problems run algorithm sa-srrw/,
    );
    expect(() => validateJobSpec(spec({ alpha: 1 }, { graph: { source: 'rgg', nodes: 1 } }))).toThrowError(
      /spec\.problem\.graph\.nodes: must be ≥ 2/,
    );
    expect(() =>
      validateJobSpec(spec({ alpha: 1 }, { graph: { source: 'rgg', nodes: 300_000 }, loss: 'logistic', points: 20, features: 10 })),
    ).toThrowError(/spec\.problem\.points: nodes × points × features = 60000000 is over the limit of 50000000 data values/);
  });
});

describe('graph-token examples', () => {
  const repo = new URL('../../../', import.meta.url);
  for (const name of ['graph-token-g12', 'graph-token-rgg-logistic', 'graph-token-file']) {
    it(`examples/${name}.yaml is a valid spec whose graph builds connected`, async () => {
      const spec = parseJobSpec(await readFile(new URL(`examples/${name}.yaml`, repo), 'utf8'), name);
      if (spec.problem.kind !== 'graph-token') throw new Error('not a graph-token example');
      const problem =
        spec.problem.graph.source === 'file'
          ? { ...spec.problem, graph: { source: 'file' as const, path: new URL(spec.problem.graph.path, repo).pathname } }
          : spec.problem;
      const g = await buildGraph(problem, spec.seed);
      expect(components(g).count).toBe(1);
      if (name === 'graph-token-file') expect([g.n, g.edges]).toEqual([200, 1093]);
    });
  }
});
