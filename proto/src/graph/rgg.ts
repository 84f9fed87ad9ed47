/**
 * Random geometric graphs (spec §4(b)): N points uniform in the unit square, an edge when two
 * points are within r = √(2.5 ln N / (π N)) (or a given radius); resampled until connected.
 */
import { invalidArgument } from '../errors.js';
import { KeyedRng, COORDINATOR_SHARD } from '../rng.js';
import { components, graphFromEdges, type Graph } from './graph.js';

/** Resampling attempts before the radius is declared too small. */
export const RGG_MAX_ATTEMPTS = 200;

export function rggRadius(n: number): number {
  return Math.sqrt((2.5 * Math.log(n)) / (Math.PI * n));
}

export function rggGraph(n: number, seed: number, radius = rggRadius(n)): Graph {
  for (let attempt = 0; attempt < RGG_MAX_ATTEMPTS; attempt++) {
    // Attempt k uses its own keyed stream, so the graph is a function of (n, seed, radius) alone.
    const rng = new KeyedRng(seed, attempt, COORDINATOR_SHARD, 'rgg-points');
    const pos = new Float64Array(2 * n);
    for (let k = 0; k < 2 * n; k++) pos[k] = rng.nextFloat();
    // Grid buckets of side r: only neighbouring cells can hold points within r.
    const cells = Math.max(1, Math.floor(1 / radius));
    const cellOf = (v: number): number => Math.min(cells - 1, Math.floor(v * cells));
    const buckets = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const key = cellOf(pos[2 * i]!) * cells + cellOf(pos[2 * i + 1]!);
      let list = buckets.get(key);
      if (list === undefined) buckets.set(key, (list = []));
      list.push(i);
    }
    const a: number[] = [];
    const b: number[] = [];
    const r2 = radius * radius;
    for (let i = 0; i < n; i++) {
      const cx = cellOf(pos[2 * i]!);
      const cy = cellOf(pos[2 * i + 1]!);
      for (let dx = -1; dx <= 1; dx++) {
        for (let dy = -1; dy <= 1; dy++) {
          const x = cx + dx;
          const y = cy + dy;
          if (x < 0 || y < 0 || x >= cells || y >= cells) continue;
          for (const j of buckets.get(x * cells + y) ?? []) {
            if (j <= i) continue;
            const ddx = pos[2 * i]! - pos[2 * j]!;
            const ddy = pos[2 * i + 1]! - pos[2 * j + 1]!;
            if (ddx * ddx + ddy * ddy <= r2) {
              a.push(i);
              b.push(j);
            }
          }
        }
      }
    }
    const g = graphFromEdges(n, Int32Array.from(a), Int32Array.from(b), 'problem.graph (rgg)', pos);
    if (components(g).count === 1) return g;
  }
  throw invalidArgument(
    `problem.graph.radius: ${radius} gave a disconnected graph in ${RGG_MAX_ATTEMPTS} samples of ${n} nodes (raise the radius or the node count)`,
  );
}
