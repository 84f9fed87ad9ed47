/**
 * Small timing helpers shared by the bench sections: a monotonic clock, repeated timing with
 * warm-up, and order statistics. Nothing here asserts on time; it only summarises samples.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds on the monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** The q-quantile (0..1) of the samples by nearest rank on a sorted copy; NaN when empty. */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const s = [...samples].sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[k]!;
}

export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

export function best(samples: readonly number[]): number {
  return samples.length === 0 ? NaN : Math.min(...samples);
}

/**
 * Runs `fn` `warmup` times untimed (so the JIT has optimised it), then `reps` times, returning each
 * timed run's milliseconds.
 */
export function timeSync(fn: () => void, warmup: number, reps: number): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = nowMs();
    fn();
    out.push(nowMs() - t0);
  }
  return out;
}

/** As {@link timeSync} for an async step, awaited one at a time (never overlapping). */
export async function timeAsync(fn: () => Promise<void>, warmup: number, reps: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = nowMs();
    await fn();
    out.push(nowMs() - t0);
  }
  return out;
}

/** Bytes per millisecond → GB/s (10⁹ bytes per second). */
export function gbPerSec(bytes: number, ms: number): number {
  return bytes / ms / 1e6;
}

/** Bit-for-bit equality of two Float64Arrays (NaN payloads and ±0 included). */
export function bitIdentical(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  const x = new BigUint64Array(a.buffer, a.byteOffset, a.length);
  const y = new BigUint64Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
