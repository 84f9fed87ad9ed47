/** The 12-node test graph of spec §4(a): two dense clusters, a 2-hop bridge and a leaf. */
import { graphFromEdges, type Graph } from './graph.js';

const G12_EDGES: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0, 2],
  [1, 2],
  [1, 3],
  [2, 3],
  [2, 4],
  [3, 4],
  [4, 5],
  [5, 6],
  [6, 7],
  [6, 8],
  [7, 8],
  [7, 9],
  [8, 9],
  [8, 10],
  [9, 10],
  [10, 11],
];

export function g12Graph(): Graph {
  return graphFromEdges(
    12,
    Int32Array.from(G12_EDGES, (e) => e[0]),
    Int32Array.from(G12_EDGES, (e) => e[1]),
    'problem.graph (g12)',
  );
}

/** Spec §4(a) quadratic centres c_i (d = 2): (s_i + 0.1·i, 0.5·cos i), s = +1 (i ≤ 4), 0 (i = 5), −1 (i ≥ 6). */
export function g12Centres(): Float64Array {
  const c = new Float64Array(24);
  for (let i = 0; i < 12; i++) {
    const s = i <= 4 ? 1 : i === 5 ? 0 : -1;
    c[2 * i] = s + 0.1 * i;
    c[2 * i + 1] = 0.5 * Math.cos(i);
  }
  return c;
}
