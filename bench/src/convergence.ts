/**
 * The quick-start job (examples/logistic-svrg.yaml) end to end, in-process and on 2 gRPC worker
 * processes: same rounds, same oracle calls, same bits — different seconds, which is the cost of
 * rounds. Drawn with the same plot code as `optfleet plot`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderConvergenceSvg, runEmbedded } from '@optfleet/cli';
import { parseJobSpec } from '@optfleet/proto';
import type { JobResultDoc } from '@optfleet/coordinator';

export const EXAMPLE = fileURLToPath(new URL('../../examples/logistic-svrg.yaml', import.meta.url));

export interface ConvergenceRun {
  readonly label: string;
  readonly rounds: number;
  readonly oracleCalls: number;
  readonly seconds: number;
  readonly gradNorm: number;
  readonly sameBitsAsInProcess: boolean;
}

export async function runConvergence(log: (m: string) => void): Promise<{ runs: ConvergenceRun[]; svg: string }> {
  const spec = parseJobSpec(await readFile(EXAMPLE, 'utf8'), EXAMPLE);
  const configs = [
    { label: 'in-process', transport: 'inprocess' as const, workers: 1 },
    { label: 'grpc 2 workers', transport: 'grpc' as const, workers: 2 },
  ];
  const docs: JobResultDoc[] = [];
  for (const c of configs) {
    log(`convergence: ${spec.name} ${c.label}`);
    const doc = await runEmbedded({ spec, transport: c.transport, workers: c.workers, workerStderr: 'ignore' });
    if (doc.status !== 'SUCCEEDED' || doc.final === undefined) throw new Error(`${c.label}: ${doc.status} ${doc.error?.message ?? ''}`);
    docs.push(doc);
  }
  const ref = docs[0]!.final!.x;
  const runs = docs.map((d, i) => ({
    label: configs[i]!.label,
    rounds: d.final!.rounds,
    oracleCalls: d.final!.oracleCalls,
    seconds: d.final!.seconds,
    gradNorm: d.final!.gradNorm ?? NaN,
    sameBitsAsInProcess: d.final!.x.length === ref.length && d.final!.x.every((v, j) => Object.is(v, ref[j])),
  }));
  const svg = await renderConvergenceSvg(
    docs.map((d, i) => ({ label: `${spec.name} ${configs[i]!.label}`, result: d })),
    `${spec.name}: in-process vs 2 gRPC workers`,
  );
  return { runs, svg };
}
