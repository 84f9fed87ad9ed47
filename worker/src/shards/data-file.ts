/**
 * Loaders for the two text formats a job's rows can come in: LIBSVM/SVMlight (stored as CSR) and
 * numeric CSV (stored dense). Both are scanned character by character with `charCodeAt` over one
 * string: no regex or `split` per token and no per-element objects, so a9a (3.5 MB) parses in tens of
 * milliseconds. Every malformed line is reported as `path:line: what is wrong`.
 */
import { readFile } from 'node:fs/promises';
import { ERROR_CODES, LIMITS, OptfleetError } from '@optfleet/proto';
import { sharedF64, sharedI32 } from './shard-data.js';
import type { CsrRows, DenseRows, ShardData } from './shard-data.js';

/** Most feature columns a data file may have (the documented job limit). */
export const MAX_FEATURES: number = LIMITS.features;
/** Most data rows a file may have (the documented job limit). */
export const MAX_ROWS: number = LIMITS.rows;
/** Most stored values (CSR non-zeros, or dense rows × cols): indptr is an Int32Array. */
export const MAX_NNZ = 2 ** 31 - 1;

/** How to read one data file. */
export interface DataFileOptions {
  path: string;
  format: 'libsvm' | 'csv';
  /** number of feature columns; when absent: libsvm = max feature index seen, csv = columns - 1 */
  features?: number;
  /** libsvm: feature indices start at 0 instead of the standard 1 (default false) */
  zeroBased?: boolean;
  /** csv: which column is the label (default 'last') */
  labelColumn?: 'first' | 'last';
  /** csv: first line is a header to skip (default false) */
  header?: boolean;
  /** map labels to ±1: exactly two distinct label values are required; the larger maps to +1 */
  binaryLabels: boolean;
}

/** A whole data file in memory (ordinary, non-shared arrays; {@link sliceRows} makes shared shards). */
export interface ParsedDataFile {
  rows: number;
  cols: number;
  /** Non-zero values: CSR stored entries (explicit zeros are dropped) or non-zero dense cells. */
  nnz: number;
  matrix: CsrRows | DenseRows;
  /** One label per row: ±1 when `binaryLabels`, else the file's values. */
  y: Float64Array;
}

/**
 * Reads and parses a data file.
 *
 * @throws OptfleetError NOT_FOUND when the file is missing or unreadable; INVALID_ARGUMENT when it is
 *   malformed, empty or over a limit (see {@link parseDataText}).
 */
export async function readDataFile(opts: DataFileOptions): Promise<ParsedDataFile> {
  let text: string;
  try {
    text = await readFile(opts.path, 'utf8');
  } catch (e) {
    const code = errnoCode(e);
    // V8 caps strings at ~512 MiB and fs.readFile at 2 GiB: the file exists, it is just too big.
    if (code === 'ERR_STRING_TOO_LONG' || code === 'ERR_FS_FILE_TOO_LARGE') {
      throw new OptfleetError(
        ERROR_CODES.INVALID_ARGUMENT,
        `data file ${opts.path} is too large to load as text (limit ${MAX_STRING_MIB} MiB)`,
        { cause: e },
      );
    }
    const why = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(e)})`;
    throw new OptfleetError(ERROR_CODES.NOT_FOUND, `data file ${opts.path} ${why}`, { cause: e });
  }
  return parseDataText(text, opts);
}

/**
 * Parses the text of a data file; `opts.path` is used only in error messages.
 *
 * LIBSVM/SVMlight: `label idx:val idx:val ...`, an optional `qid:N` token (ignored), `#` comments to
 * end of line, blank lines skipped, indices strictly ascending within a line (1-based unless
 * `zeroBased`). CSV: numeric cells separated by commas, every row as wide as the first.
 *
 * @throws OptfleetError INVALID_ARGUMENT naming `path:line` for each kind of malformed line, the path
 *   for an empty file, and the limit for anything over {@link MAX_FEATURES}, {@link MAX_ROWS} or {@link MAX_NNZ}.
 */
export function parseDataText(text: string, opts: DataFileOptions): ParsedDataFile {
  checkOptions(opts);
  return opts.format === 'libsvm' ? parseLibsvm(text, opts) : parseCsv(text, opts);
}

/**
 * Rows [start, end) of a parsed file as shard `shard`, copied into fresh SharedArrayBuffer-backed
 * arrays (so pool threads read them in place); a CSR slice's indptr is re-based to start at 0.
 *
 * @throws OptfleetError INVALID_ARGUMENT when the range is not within [0, rows].
 */
export function sliceRows(file: ParsedDataFile, shard: number, start: number, end: number): ShardData {
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > file.rows) {
    throw invalid(`row range [${start}, ${end}) is not within the file's ${file.rows} rows`);
  }
  const n = end - start;
  const y = sharedF64(n);
  y.set(file.y.subarray(start, end));
  const m = file.matrix;
  if (m.kind === 'dense') {
    const x = sharedF64(n * m.cols);
    x.set(m.x.subarray(start * m.cols, end * m.cols));
    return { shard, firstRow: start, matrix: { kind: 'dense', rows: n, cols: m.cols, x }, y };
  }
  const lo = m.indptr[start]!;
  const hi = m.indptr[end]!;
  const indptr = sharedI32(n + 1);
  for (let r = 0; r <= n; r++) indptr[r] = m.indptr[start + r]! - lo;
  const indices = sharedI32(hi - lo);
  indices.set(m.indices.subarray(lo, hi));
  const values = sharedF64(hi - lo);
  values.set(m.values.subarray(lo, hi));
  return {
    shard,
    firstRow: start,
    matrix: { kind: 'csr', rows: n, cols: m.cols, indptr, indices, values },
    y,
  };
}

// ---------------------------------------------------------------------------------------------
// Implementation

const MAX_STRING_MIB = 512;

const CR = 13;
const SPACE = 32;
const TAB = 9;
const HASH = 35;
const COLON = 58;
const COMMA = 44;
const DOT = 46;
const PLUS = 43;
const MINUS = 45;
const ZERO = 48;
/** A UTF-8 byte-order mark, as spreadsheet exports often start with. */
const BOM = 0xfeff;

/** 10^0 … 10^22: every one is exact in a double, which the fast number path relies on. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => 10 ** k);

function invalid(message: string): OptfleetError {
  return new OptfleetError(ERROR_CODES.INVALID_ARGUMENT, message);
}

function noRows(path: string): OptfleetError {
  return invalid(`data file ${path} has no data rows`);
}

function tooManyRows(path: string, line: number): OptfleetError {
  return invalid(`${path}:${line}: more than the limit of ${fmt(MAX_ROWS)} rows`);
}

function errnoCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string') return e.code;
  return undefined;
}

function checkOptions(opts: DataFileOptions): void {
  if (opts.format !== 'libsvm' && opts.format !== 'csv') {
    throw invalid(`data file ${opts.path}: unknown format "${String(opts.format)}" (expected libsvm or csv)`);
  }
  const f = opts.features;
  if (f !== undefined && (!Number.isInteger(f) || f < 1 || f > MAX_FEATURES)) {
    throw invalid(`data file ${opts.path}: features = ${f} must be an integer from 1 to the limit of ${fmt(MAX_FEATURES)}`);
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** Text for an error message, cut short so a binary file cannot produce a megabyte message. */
function short(text: string, a: number, b: number): string {
  return b - a > 40 ? `${text.slice(a, a + 40)}…` : text.slice(a, b);
}

/** A token for an error message, quoted so an empty or blank one stays visible. */
function quote(text: string, a: number, b: number): string {
  return JSON.stringify(short(text, a, b));
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === 11 || c === 12;
}

/**
 * The number in text[a, b), or NaN if it is not one (±Infinity if it overflows or says infinity).
 * Plain decimals of ≤ 15 significant digits and ≤ 22 fraction digits take the exact fast path
 * (an integer < 2^53 divided by an exact power of ten is one correctly rounded operation, so the
 * result equals `Number`'s); anything else (exponents, long mantissas) falls back to `Number`.
 */
function parseNum(text: string, a: number, b: number): number {
  if (a >= b) return NaN;
  let p = a;
  let c = text.charCodeAt(p);
  const neg = c === MINUS;
  if (neg || c === PLUS) p++;
  let m = 0;
  let sig = 0;
  let frac = 0;
  let dot = false;
  let anyDigit = false;
  for (; p < b; p++) {
    c = text.charCodeAt(p);
    const d = c - ZERO;
    if (d >= 0 && d <= 9) {
      anyDigit = true;
      if (m !== 0 || d !== 0) sig++;
      m = m * 10 + d;
      if (dot) frac++;
    } else if (c === DOT && !dot) {
      dot = true;
    } else {
      return slowNum(text, a, b);
    }
  }
  if (!anyDigit) return NaN;
  if (sig > 15 || frac > 22) return slowNum(text, a, b);
  const v = frac === 0 ? m : m / POW10[frac]!;
  return neg ? -v : v;
}

/** `Number` restricted to decimal syntax (it would also take "0x1f", "0b1" or " "). */
function slowNum(text: string, a: number, b: number): number {
  const s = text.slice(a, b);
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/** Why text[a, b) is not a finite number, for the value of `what` ("feature 3", "column 2"). */
function badValue(text: string, a: number, b: number, what: string): string {
  const s = text.slice(a, b);
  if (/^[+-]?nan$/i.test(s)) return `NaN in ${what}`;
  if (Number.isNaN(parseNum(text, a, b))) return `value ${quote(text, a, b)} of ${what} is not a number`;
  return `infinite value ${quote(text, a, b)} in ${what}`;
}

/** Why text[a, b) is not a finite label. */
function badLabel(text: string, a: number, b: number): string {
  const s = text.slice(a, b);
  if (/^[+-]?nan$/i.test(s)) return 'NaN label';
  if (Number.isNaN(parseNum(text, a, b))) return `label ${quote(text, a, b)} is not a number`;
  return `infinite label ${quote(text, a, b)}`;
}

/** Tracks distinct labels for `binaryLabels` and maps them to ±1 at the end. */
class BinaryLabels {
  private lo = NaN;
  private hi = NaN;
  private seen = 0;

  constructor(private readonly path: string) {}

  /** Records one row's label; a third distinct value is an error on that line. */
  observe(v: number, line: number): void {
    if (this.seen === 0) {
      this.lo = v;
      this.seen = 1;
    } else if (v !== this.lo && (this.seen === 1 || v !== this.hi)) {
      if (this.seen === 2) {
        throw invalid(
          `${this.path}:${line}: third distinct label ${v} (after ${this.lo} and ${this.hi}); ` + 'binaryLabels needs exactly two',
        );
      }
      this.hi = v;
      this.seen = 2;
    }
  }

  /** Rewrites y in place: the larger label to +1, the smaller to -1. */
  apply(y: Float64Array): void {
    if (this.seen < 2) {
      throw invalid(`data file ${this.path}: binaryLabels needs two distinct labels, found only ${this.lo}`);
    }
    const pos = Math.max(this.lo, this.hi);
    for (let i = 0; i < y.length; i++) y[i] = y[i] === pos ? 1 : -1;
  }
}

function growF64(a: Float64Array, need: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(Math.max(need, Math.min(a.length * 2, MAX_NNZ)));
  b.set(a);
  return b;
}

function growI32(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(need, Math.min(a.length * 2, MAX_NNZ)));
  b.set(a);
  return b;
}

function parseLibsvm(text: string, opts: DataFileOptions): ParsedDataFile {
  const path = opts.path;
  const base = opts.zeroBased === true ? 0 : 1;
  // Highest allowed 0-based column + 1.
  const colLimit = opts.features ?? MAX_FEATURES;
  const binary = opts.binaryLabels ? new BinaryLabels(path) : undefined;
  const n = text.length;

  // Initial capacities from the text size keep the doubling copies few.
  let indptr = new Int32Array(Math.max(16, (n >>> 6) + 1));
  let y = new Float64Array(indptr.length);
  let indices = new Int32Array(Math.max(64, n >>> 2));
  let values = new Float64Array(indices.length);
  let rows = 0;
  let nnz = 0;
  let maxCol = -1;
  let line = 0;
  let pos = text.charCodeAt(0) === BOM ? 1 : 0;

  while (pos < n) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const lineStart = pos;
    pos = end + 1;

    let p = lineStart;
    while (p < end && isSpace(text.charCodeAt(p))) p++;
    if (p >= end || text.charCodeAt(p) === HASH) continue; // blank or comment-only line
    if (rows === MAX_ROWS) throw tooManyRows(path, line);

    // Label.
    let q = p;
    for (; q < end; q++) {
      const c = text.charCodeAt(q);
      if (isSpace(c) || c === HASH) break;
    }
    const label = parseNum(text, p, q);
    if (!Number.isFinite(label)) throw invalid(`${path}:${line}: ${badLabel(text, p, q)}`);
    binary?.observe(label, line);

    // idx:val tokens.
    let prevCol = -1;
    p = q;
    for (;;) {
      while (p < end && isSpace(text.charCodeAt(p))) p++;
      if (p >= end || text.charCodeAt(p) === HASH) break;
      const a = p;
      let colon = -1;
      for (; p < end; p++) {
        const c = text.charCodeAt(p);
        if (isSpace(c) || c === HASH) break;
        if (c === COLON && colon < 0) colon = p;
      }
      const b = p;
      if (colon < 0) throw invalid(`${path}:${line}: token ${quote(text, a, b)} is not index:value`);
      if (colon - a === 3 && text.startsWith('qid', a)) continue; // SVMlight query id: not a feature

      let idx = 0;
      let isInt = colon > a;
      for (let k = a; k < colon; k++) {
        const d = text.charCodeAt(k) - ZERO;
        if (d < 0 || d > 9) {
          isInt = false;
          break;
        }
        // Stop growing once past every limit so huge indices cannot lose integer precision.
        if (idx <= MAX_FEATURES) idx = idx * 10 + d;
      }
      if (!isInt) {
        const why = /^-\d+$/.test(text.slice(a, colon)) ? 'is negative' : 'is not an integer';
        throw invalid(`${path}:${line}: feature index ${quote(text, a, colon)} ${why}`);
      }
      if (idx < base) {
        throw invalid(`${path}:${line}: feature index 0 in a 1-based file (set zeroBased for 0-based indices)`);
      }
      const col = idx - base;
      if (col >= colLimit) {
        const why =
          opts.features === undefined ? `exceeds the limit of ${fmt(MAX_FEATURES)} features` : `exceeds features = ${opts.features}`;
        throw invalid(`${path}:${line}: feature index ${short(text, a, colon)} ${why}`);
      }
      if (col <= prevCol) {
        throw invalid(
          col === prevCol
            ? `${path}:${line}: duplicate feature index ${short(text, a, colon)}`
            : `${path}:${line}: feature indices not ascending: ${short(text, a, colon)} after ${prevCol + base}`,
        );
      }
      prevCol = col;

      const v = parseNum(text, colon + 1, b);
      if (!Number.isFinite(v)) {
        throw invalid(`${path}:${line}: ${badValue(text, colon + 1, b, `feature ${short(text, a, colon)}`)}`);
      }
      // Explicit zeros carry no information in a sparse row; dropping them keeps nnz meaningful.
      if (v === 0) continue;
      if (nnz === MAX_NNZ) throw invalid(`${path}:${line}: more than the limit of ${fmt(MAX_NNZ)} non-zeros`);
      if (nnz === indices.length) {
        indices = growI32(indices, nnz + 1);
        values = growF64(values, nnz + 1);
      }
      indices[nnz] = col;
      values[nnz] = v;
      nnz++;
      if (col > maxCol) maxCol = col;
    }

    if (rows + 1 >= indptr.length) {
      indptr = growI32(indptr, rows + 2);
      y = growF64(y, rows + 2);
    }
    y[rows] = label;
    rows++;
    indptr[rows] = nnz;
  }

  // Checked before the label mapping, whose "one distinct label" error would hide the real cause.
  if (rows === 0) throw noRows(path);
  const yOut = y.slice(0, rows);
  binary?.apply(yOut);
  const cols = opts.features ?? maxCol + 1;
  const matrix: CsrRows = {
    kind: 'csr',
    rows,
    cols,
    indptr: indptr.slice(0, rows + 1),
    indices: indices.slice(0, nnz),
    values: values.slice(0, nnz),
  };
  return { rows, cols, nnz, matrix, y: yOut };
}

function parseCsv(text: string, opts: DataFileOptions): ParsedDataFile {
  const path = opts.path;
  const labelFirst = opts.labelColumn === 'first';
  const binary = opts.binaryLabels ? new BinaryLabels(path) : undefined;
  const n = text.length;

  let columns = -1; // set by the first data row
  let firstLine = 0;
  let x = new Float64Array(0);
  let y = new Float64Array(Math.max(16, (n >>> 6) + 1));
  let rows = 0;
  let stored = 0;
  let nnz = 0;
  let line = 0;
  let pos = text.charCodeAt(0) === BOM ? 1 : 0;

  while (pos < n) {
    line++;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const lineStart = pos;
    pos = end + 1;
    if (line === 1 && opts.header === true) continue;

    let p = lineStart;
    let commas = 0;
    let blank = true;
    for (; p < end; p++) {
      const c = text.charCodeAt(p);
      if (c === COMMA) commas++;
      else if (blank && !isSpace(c)) blank = false;
    }
    if (blank && commas === 0) continue;
    if (rows === MAX_ROWS) throw tooManyRows(path, line);
    const width = commas + 1;

    if (columns < 0) {
      if (width < 2) throw invalid(`${path}:${line}: 1 column; need a label column and at least one feature`);
      if (width - 1 > MAX_FEATURES) {
        throw invalid(`${path}:${line}: ${fmt(width - 1)} features exceed the limit of ${fmt(MAX_FEATURES)}`);
      }
      if (opts.features !== undefined && width - 1 !== opts.features) {
        throw invalid(`${path}:${line}: ${width - 1} feature columns, but features = ${opts.features}`);
      }
      columns = width;
      firstLine = line;
      x = new Float64Array(Math.max(16 * (columns - 1), Math.min(MAX_NNZ, n >>> 3)));
    } else if (width !== columns) {
      throw invalid(`${path}:${line}: ${width} columns, expected ${columns} (as in line ${firstLine})`);
    }

    const cols = columns - 1;
    if (stored + cols > MAX_NNZ) {
      throw invalid(`${path}:${line}: more than the limit of ${fmt(MAX_NNZ)} stored values (rows × features)`);
    }
    if (stored + cols > x.length) x = growF64(x, stored + cols);
    if (rows === y.length) y = growF64(y, rows + 1);

    const labelAt = labelFirst ? 0 : cols;
    p = lineStart;
    for (let c = 0; c < columns; c++) {
      let b = p;
      while (b < end && text.charCodeAt(b) !== COMMA) b++;
      const next = b + 1;
      let a = p;
      while (a < b && isSpace(text.charCodeAt(a))) a++;
      while (b > a && isSpace(text.charCodeAt(b - 1))) b--;
      const v = parseNum(text, a, b);
      if (c === labelAt) {
        if (!Number.isFinite(v)) throw invalid(`${path}:${line}: ${badLabel(text, a, b)}`);
        binary?.observe(v, line);
        y[rows] = v;
      } else {
        if (!Number.isFinite(v)) throw invalid(`${path}:${line}: ${badValue(text, a, b, `column ${c + 1}`)}`);
        x[stored++] = v;
        if (v !== 0) nnz++;
      }
      p = next;
    }
    rows++;
  }

  // Checked before the label mapping, whose "one distinct label" error would hide the real cause.
  if (rows === 0) throw noRows(path);
  const yOut = y.slice(0, rows);
  binary?.apply(yOut);
  const cols = Math.max(columns - 1, 0);
  const matrix: DenseRows = { kind: 'dense', rows, cols, x: x.slice(0, stored) };
  return { rows, cols, nnz, matrix, y: yOut };
}
