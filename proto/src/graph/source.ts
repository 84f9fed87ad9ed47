/** Builds the graph a `graph-token` job names, from the spec alone (seeded or read from a file). */
import { readFile } from 'node:fs/promises';
import { invalidArgument } from '../errors.js';
import type { JobSpec } from '../job-spec.js';
import { g12Graph } from './g12.js';
import { requireConnected, type Graph } from './graph.js';
import { parseEdgeList } from './edge-list.js';
import { rggGraph, rggRadius } from './rgg.js';

export type GraphTokenProblem = Extract<JobSpec['problem'], { kind: 'graph-token' }>;

export async function buildGraph(problem: GraphTokenProblem, jobSeed: number): Promise<Graph> {
  const src = problem.graph;
  if (src.source === 'g12') return g12Graph();
  if (src.source === 'rgg') return rggGraph(src.nodes, src.seed ?? jobSeed, src.radius ?? rggRadius(src.nodes));
  let text: string;
  try {
    text = await readFile(src.path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code ?? 'error';
    throw invalidArgument(`problem.graph.path: cannot read ${src.path} (${code})`);
  }
  const g = parseEdgeList(text, src.path);
  requireConnected(g, `problem.graph.path (${src.path})`);
  return g;
}
