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
 * the shared machine; the median is kept in the JSON too).
 */
import { existsSync } from 'node:fs';
import { lossGrad, readDataFile, syntheticShard, type RowMatrix } from '@optfleet/worker';
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
  return { name, shape, bytes, passes: samples.length, bestMs: b, medianMs: m, gbPerSec: gbPerSec(bytes, b), medianGbPerSec: gbPerSec(bytes, m), note };
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

export async function runKernels(o: KernelOptions, log: (s: string) => void): Promise<KernelSection> {
  const results: KernelResult[] = [];
  const skipped: string[] = [];

  log(`kernels: generating a dense synthetic shard ${o.rows}×${o.cols}…`);
  const shard = syntheticShard({ kind: 'logistic', seed: 1, d: o.cols, noise: 0.1 }, 0, 0, o.rows);
  const m = shard.matrix;
  if (m.kind !== 'dense') throw new Error('syntheticShard returned a non-dense matrix');
  const x = m.x;
  const bytes = x.byteLength;
  const shape = `dense ${o.rows}×${o.cols}`;

  // Memory-bandwidth reference: native copy of an equally large array.
  const dst = new Float64Array(x.length);
  results.push(summarise('copy (Float64Array.set)', shape, bytes, timeSync(() => dst.set(x), 3, 10), 'native memcpy; moves 2× bytes (read+write)'));

  // Plain JS read-only streaming.
  results.push(
    summarise('sum loop (plain JS)', shape, bytes, timeSync(() => (sink += sumLoop(x)), 3, 10), 'one add per element, no stores'),
  );

  // The fused kernel, dense path.
  const w = benchPoint(o.cols);
  const out = new Float64Array(o.cols + 2);
  results.push(
    summarise(
      'lossGrad logistic (dense)',
      shape,
      bytes,
      timeSync(
        () => {
          out.fill(0);
          lossGrad('logistic', m, shard.y, w, null, out);
          sink += out[0]!;
        },
        3,
        10,
      ),
      'fused: x·w then g += s·x per row',
    ),
  );

  // The fused kernel, CSR path on a9a.
  let a9aParseMs: number | undefined;
  if (existsSync(o.a9aPath)) {
    log(`kernels: parsing ${o.a9aPath}…`);
    const t0 = nowMs();
    const file = await readDataFile({ path: o.a9aPath, format: 'libsvm', binaryLabels: true });
    a9aParseMs = nowMs() - t0;
    const cm = file.matrix;
    const cw = benchPoint(file.cols);
    const cout = new Float64Array(file.cols + 2);
    results.push(
      summarise(
        'lossGrad logistic (CSR a9a)',
        `csr ${file.rows}×${file.cols}, nnz ${file.nnz}`,
        matrixBytes(cm),
        timeSync(
          () => {
            cout.fill(0);
            lossGrad('logistic', cm, file.y, cw, null, cout);
            sink += cout[0]!;
          },
          5,
          30,
        ),
        'bytes = values (f64) + indices (i32)',
      ),
    );
  } else {
    skipped.push(`CSR a9a: ${o.a9aPath} not found`);
  }
  if (sink === 42.4242) log('');
  return a9aParseMs === undefined ? { results, skipped } : { results, skipped, a9aParseMs };
}
