/**
 * The matrix game min_{x∈Δ} max_{y∈Δ} yᵀAx (spec §3.1, the "policeman and burglar" problem of
 * the paper's experiment), split into N "coordinate pair" components
 * F_i(x, y) = N·(A_{i,:}ᵀ y_i, −A_{:,i} x_i), so (1/N)Σ_i F_i = (Aᵀy, −Ax). Each worker stores,
 * for its components, row i and column i of A: [A_{i,:}, A_{:,i}] (2N numbers per component).
 * A comes from the seeded generator A_ij = w_j·(1 − exp(−θ|i−j|)), w_j = |N(0,1)|, or from a
 * CSV file of N rows of N numbers (users bring their own games).
 */
import { readFile } from 'node:fs/promises';
import { COORDINATOR_SHARD, ERROR_CODES, KeyedRng, LIMITS, OptfleetError, invalidArgument } from '@optfleet/proto';
import { sharedF64, type ShardData } from './shard-data.js';

/** Largest matrix game (N×N) accepted: the iterate has 2N entries and each component 2N numbers. */
export const MAX_MATRIX_GAME = 10_000;

/** The policeman-and-burglar payoff matrix, row-major N×N. */
export function policemanBurglar(seed: number, N: number, theta: number): Float64Array {
  const rng = new KeyedRng(seed, 0, COORDINATOR_SHARD, 'matrix-game-w');
  const w = Float64Array.from({ length: N }, () => Math.abs(rng.nextNormal()));
  const A = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) A[i * N + j] = w[j]! * (1 - Math.exp(-theta * Math.abs(i - j)));
  return A;
}

/** Reads an N×N payoff matrix from CSV (numbers separated by commas; errors name file:line). */
export async function readPayoffCsv(path: string, header: boolean): Promise<{ N: number; A: Float64Array }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new OptfleetError(ERROR_CODES.NOT_FOUND, `payoff file ${path} cannot be read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const lines = text.split(/\r?\n/);
  const rows: number[][] = [];
  lines.forEach((line, k) => {
    if (k === 0 && header) return;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const cells = line.split(',');
    const row = cells.map((c, j) => {
      const v = Number(c.trim());
      if (c.trim() === '' || !Number.isFinite(v))
        throw invalidArgument(`${path}:${k + 1}: column ${j + 1}: "${c.trim()}" is not a finite number`);
      return v;
    });
    if (rows.length > 0 && row.length !== rows[0]!.length) {
      throw invalidArgument(`${path}:${k + 1}: ${row.length} columns where the first row has ${rows[0]!.length}`);
    }
    rows.push(row);
  });
  const N = rows.length;
  if (N === 0) throw invalidArgument(`${path}: no rows`);
  if (rows[0]!.length !== N)
    throw invalidArgument(`${path}: the payoff matrix must be square, got ${N} rows of ${rows[0]!.length} columns`);
  if (N > MAX_MATRIX_GAME) throw invalidArgument(`${path}: ${N}×${N} is over the limit of ${MAX_MATRIX_GAME}×${MAX_MATRIX_GAME}`);
  if (2 * N > LIMITS.tensorElements) throw invalidArgument(`${path}: too large`);
  const A = new Float64Array(N * N);
  rows.forEach((r, i) => A.set(r, i * N));
  return { N, A };
}

/** Components [start, end): rows [A_{i,:}, A_{:,i}]. */
export function matrixGameShard(A: Float64Array, N: number, shard: number, start: number, end: number): ShardData {
  const rows = end - start;
  const x = sharedF64(rows * 2 * N);
  for (let r = 0; r < rows; r++) {
    const i = start + r;
    x.set(A.subarray(i * N, (i + 1) * N), r * 2 * N);
    for (let j = 0; j < N; j++) x[r * 2 * N + N + j] = A[j * N + i]!;
  }
  return { shard, firstRow: start, matrix: { kind: 'dense', rows, cols: 2 * N, x }, y: sharedF64(rows) };
}

/** Per-shard bound max_i ‖F_i‖ Lipschitz constant: N·max(‖A_{i,:}‖, ‖A_{:,i}‖). */
export function matrixGameLipschitz(N: number, shard: ShardData): number {
  const X = shard.matrix.kind === 'dense' ? shard.matrix.x : new Float64Array(0);
  let worst = 0;
  for (let r = 0; r < shard.matrix.rows; r++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < N; j++) {
      a += X[r * 2 * N + j]! ** 2;
      b += X[r * 2 * N + N + j]! ** 2;
    }
    worst = Math.max(worst, Math.sqrt(Math.max(a, b)));
  }
  return N * worst;
}
