/**
 * Section (a): single-thread kernel bandwidth.
 *
 * The fused loss-gradient kernel (`lossGrad`) reads every stored matrix value exactly once per
 * pass, so its speed is best judged as bandwidth: matrix bytes streamed per second. To tell whether
 * it is memory-bound or compute-bound on this machine we put it next to two references over an
 * equally large array:
 *  - `Float64Array.prototype.set` (a native memcpy: the memory-bandwidth ceiling; it reads the
 *    bytes once and writes them once, and is reported as array bytes per second like the others);
 *  - a plain JS read-only sum loop (what V8-compiled JS achieves streaming the same bytes with one
 *    add per element and no stores).
 * The CSR path is measured on the a9a LIBSVM file when it is present (bytes = values + column
 * indices; the row pointers and labels are not counted).
 *
 * Each number is the best of several passes after warm-up passes (best-of filters out noise from
 * the shared machine; the median is shown too). The kernels' passes are interleaved so that load
 * from other processes affects all of them alike.
 */
import { existsSync } from 'node:fs';
import { lossGrad, readDataFile, syntheticShard, type ParsedDataFile, type RowMatrix } from '@optfleet/worker';
import { best, gbPerSec, median, nowMs, timeSync } from './stats.js';

export interface KernelResult {
  readonly name: string;
  /** What was streamed, e.g. "dense 100000×100". */
  readonly shape: string;
  /** Bytes counted per pass. */
  readonly bytes: number;
  readonly passes: number;
  readonly bestMs: number;
  readonly medianMs: number;
  /** bytes / best pass time. */
  readonly gbPerSec: number;
  readonly medianGbPerSec: number;
  readonly note: string;
}

export interface KernelSection {
  readonly results: KernelResult[];
  /** Why a measurement was skipped (e.g. the a9a file is absent). */
  readonly skipped: string[];
  /** a9a parse time (ms), when measured. */
  readonly a9aParseMs?: number;
}

export interface KernelOptions {
  readonly rows: number;
  readonly cols: number;
  readonly a9aPath: string;
}

/** Keeps results observable so V8 cannot drop the loops that make them. */
let sink = 0;

function summarise(name: string, shape: string, bytes: number, samples: number[], note: string): KernelResult {
  const b = best(samples);
  const m = median(samples);
  return {
    name,
    shape,
    bytes,
    passes: samples.length,
    bestMs: b,
    medianMs: m,
    gbPerSec: gbPerSec(bytes, b),
    medianGbPerSec: gbPerSec(bytes, m),
    note,
  };
}

/** A plain single-accumulator read-only loop (deliberately not unrolled). */
function sumLoop(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** A point with modest entries so the logistic slope is neither saturated nor trivial. */
function benchPoint(d: number): Float64Array {
  const w = new Float64Array(d);
  for (let j = 0; j < d; j++) w[j] = 0.5 * Math.sin(j + 1);
  return w;
}

function matrixBytes(m: RowMatrix): number {
  return m.kind === 'dense' ? m.x.byteLength : m.values.byteLength + m.indices.byteLength;
}

interface KernelCase {
  readonly name: string;
  readonly shape: string;
  readonly bytes: number;
  /** Timed passes per interleaved round (small inputs get more so their samples are as many). */
  readonly perRound: number;
  readonly note: string;
  readonly pass: () => void;
}

/**
 * Times the cases interleaved — warm-up passes for each, then `rounds` rounds that each time every
 * case in turn — so a burst of load from another process on this shared machine hits every kernel
 * alike instead of skewing one of them, and best-of picks each kernel's quiet passes.
 */
function timeInterleaved(cases: readonly KernelCase[], warmup: number, rounds: number): KernelResult[] {
  for (const c of cases) timeSync(c.pass, warmup * c.perRound, 0);
  const samples = cases.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, k) => samples[k]!.push(...timeSync(c.pass, 0, c.perRound)));
  }
  return cases.map((c, k) => summarise(c.name, c.shape, c.bytes, samples[k]!, c.note));
}

async function loadA9a(path: string, log: (s: string) => void): Promise<{ file: ParsedDataFile; parseMs: number }> {
  log(`kernels: parsing ${path}…`);
  const t0 = nowMs();
  const file = await readDataFile({ path, format: 'libsvm', binaryLabels: true });
  return { file, parseMs: nowMs() - t0 };
}

export async function runKernels(o: KernelOptions, log: (s: string) => void): Promise<KernelSection> {
  const skipped: string[] = [];
  const cases: KernelCase[] = [];

  log(`kernels: generating a dense synthetic shard ${o.rows}×${o.cols}…`);
  const shard = syntheticShard({ kind: 'logistic', seed: 1, d: o.cols, noise: 0.1 }, 0, 0, o.rows);
  const m = shard.matrix;
  if (m.kind !== 'dense') throw new Error('syntheticShard returned a non-dense matrix');
  const x = m.x;
  const bytes = x.byteLength;
  const shape = `dense ${o.rows}×${o.cols}`;

  // Memory-bandwidth reference: native copy of an equally large array.
  const dst = new Float64Array(x.length);
  cases.push({
    name: 'copy (Float64Array.set)',
    shape,
    bytes,
    perRound: 1,
    note: 'native memcpy; moves 2× bytes (read+write)',
    pass: () => dst.set(x),
  });

  // Plain JS read-only streaming.
  cases.push({
    name: 'sum loop (plain JS)',
    shape,
    bytes,
    perRound: 1,
    note: 'one add per element, no stores',
    pass: () => (sink += sumLoop(x)),
  });

  // The fused kernel, dense path.
  const w = benchPoint(o.cols);
  const out = new Float64Array(o.cols + 2);
  cases.push({
    name: 'lossGrad logistic (dense)',
    shape,
    bytes,
    perRound: 1,
    note: 'fused: x·w then g += s·x per row',
    pass: () => {
      out.fill(0);
      lossGrad('logistic', m, shard.y, w, null, out);
      sink += out[0]!;
    },
  });

  // The fused kernel, CSR path on a9a.
  let a9aParseMs: number | undefined;
  const a9a = existsSync(o.a9aPath)
    ? await loadA9a(o.a9aPath, log).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))
    : undefined;
  if (a9a === undefined) skipped.push(`CSR a9a: ${o.a9aPath} not found`);
  else if (a9a instanceof Error) skipped.push(`CSR a9a: ${a9a.message}`);
  else {
    const { file } = a9a;
    a9aParseMs = a9a.parseMs;
    const cm = file.matrix;
    const cw = benchPoint(file.cols);
    const cout = new Float64Array(file.cols + 2);
    cases.push({
      name: 'lossGrad logistic (CSR a9a)',
      shape: `csr ${file.rows}×${file.cols}, nnz ${file.nnz}`,
      bytes: matrixBytes(cm),
      perRound: 3,
      note: 'bytes = values (f64) + indices (i32)',
      pass: () => {
        cout.fill(0);
        lossGrad('logistic', cm, file.y, cw, null, cout);
        sink += cout[0]!;
      },
    });
  }

  log('kernels: timing (interleaved passes)…');
  const results = timeInterleaved(cases, 3, 10);
  if (sink === 42.4242) log('');
  return a9aParseMs === undefined ? { results, skipped } : { results, skipped, a9aParseMs };
}
