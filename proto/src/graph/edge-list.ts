/**
 * SNAP-style edge lists: one "u v" pair per line (whitespace separated, extra columns ignored),
 * comments start with '#'. Node ids are non-negative integers, renumbered 0..N−1 in ascending id
 * order. A "# Nodes: N" header declares the node count: an id past the N-th distinct one is unknown.
 */
import { invalidArgument } from '../errors.js';
import { graphFromEdges, type Graph } from './graph.js';

export function parseEdgeList(text: string, file: string): Graph {
  const a: number[] = [];
  const b: number[] = [];
  let declared = -1;
  let declaredLine = 0;
  const lines = text.split(/\r?\n/);
  const firstSeen = new Map<number, number>();
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /Nodes:\s*(\d+)/i.exec(line);
      if (m !== null && declared < 0) {
        declared = Number(m[1]);
        declaredLine = ln + 1;
      }
      continue;
    }
    const parts = line.split(/\s+/);
    if (parts.length < 2) throw invalidArgument(`${file}:${ln + 1}: expected two node ids, got "${line.slice(0, 40)}"`);
    const ids: number[] = [];
    for (const p of parts.slice(0, 2)) {
      if (!/^\d+$/.test(p) || !Number.isSafeInteger(Number(p))) {
        throw invalidArgument(`${file}:${ln + 1}: node id "${p.slice(0, 20)}" is not a non-negative integer`);
      }
      ids.push(Number(p));
    }
    const [u, v] = ids as [number, number];
    if (u === v) throw invalidArgument(`${file}:${ln + 1}: self-loop at node ${u} (self-loops are not allowed)`);
    for (const id of ids) {
      if (!firstSeen.has(id)) {
        firstSeen.set(id, ln + 1);
        if (declared >= 0 && firstSeen.size > declared) {
          throw invalidArgument(
            `${file}:${ln + 1}: node id ${id} is unknown: the header (line ${declaredLine}) declares ${declared} nodes and this is a further distinct id`,
          );
        }
      }
    }
    a.push(u);
    b.push(v);
  }
  if (a.length === 0) throw invalidArgument(`${file}: no edges (an empty graph)`);
  const ids = [...firstSeen.keys()].sort((p, q) => p - q);
  const index = new Map<number, number>(ids.map((id, k) => [id, k]));
  return graphFromEdges(
    ids.length,
    Int32Array.from(a, (id) => index.get(id)!),
    Int32Array.from(b, (id) => index.get(id)!),
    file,
  );
}
