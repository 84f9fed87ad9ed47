/**
 * In-memory layout of one shard's rows. Every array lives in a SharedArrayBuffer so piscina
 * threads read it in place (structured clone of a SAB-backed view shares, never copies).
 */

import type { WalkGraph, WalkShard } from '../kernels/cpu/srrw-walk.js';

/** Dense row-major rows: x[r * cols + j]. */
export interface DenseRows {
  readonly kind: 'dense';
  readonly rows: number;
  readonly cols: number;
  /** rows * cols values, row-major, SharedArrayBuffer-backed. */
  readonly x: Float64Array;
}

/** Compressed sparse rows (CSR): row r holds indices/values [indptr[r], indptr[r+1]). */
export interface CsrRows {
  readonly kind: 'csr';
  readonly rows: number;
  readonly cols: number;
  /** rows + 1 offsets into indices/values. */
  readonly indptr: Int32Array;
  /** 0-based column indices, ascending within a row. */
  readonly indices: Int32Array;
  readonly values: Float64Array;
}

export type RowMatrix = DenseRows | CsrRows;

/** A shard: a contiguous range of the job's rows with their labels/targets. */
export interface ShardData {
  /** graph-token jobs: the job's walk tables and this shard's agents (rows = agents × points). */
  readonly walk?: { readonly graph: WalkGraph; readonly agents: WalkShard };
  /** Shard index within the job (0-based). */
  readonly shard: number;
  /** Global index of this shard's first row. */
  readonly firstRow: number;
  readonly matrix: RowMatrix;
  /** One label (±1 for binary problems) or target per row, SharedArrayBuffer-backed. */
  readonly y: Float64Array;
}

/** A Float64Array of `length` zeros in a fresh SharedArrayBuffer. */
export function sharedF64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/** An Int32Array of `length` zeros in a fresh SharedArrayBuffer. */
export function sharedI32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

/** Bytes held by a shard's arrays. */
export function shardBytes(s: ShardData): number {
  const m = s.matrix;
  const mb = m.kind === 'dense' ? m.x.byteLength : m.indptr.byteLength + m.indices.byteLength + m.values.byteLength;
  return mb + s.y.byteLength;
}
