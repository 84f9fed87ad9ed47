import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { ERROR_CODES, OptfleetError } from '@optfleet/proto';
import { MAX_FEATURES, MAX_NNZ, MAX_ROWS, parseDataText, readDataFile, sliceRows } from './data-file.js';
import type { DataFileOptions, ParsedDataFile } from './data-file.js';
import type { CsrRows, DenseRows } from './shard-data.js';

// shared/ sits beside the repository (../shared from the repo root) in CI; /work/shared in a session.
const A9A =
  [fileURLToPath(new URL('../../../../shared/data/a9a.libsvm', import.meta.url)), '/work/shared/data/a9a.libsvm'].find((f) =>
    existsSync(f),
  ) ?? fileURLToPath(new URL('../../../../shared/data/a9a.libsvm', import.meta.url));
// Same depth from src/shards and dist/shards, so this holds for the compiled test too.
const A9A_HEAD = fileURLToPath(new URL('../../../examples/data/a9a-head.libsvm', import.meta.url));

const libsvm = (extra: Partial<DataFileOptions> = {}): DataFileOptions => ({
  path: 'a.libsvm',
  format: 'libsvm',
  binaryLabels: false,
  ...extra,
});
const csv = (extra: Partial<DataFileOptions> = {}): DataFileOptions => ({
  path: 'a.csv',
  format: 'csv',
  binaryLabels: false,
  ...extra,
});

function csr(f: ParsedDataFile): CsrRows {
  if (f.matrix.kind !== 'csr') throw new Error('expected CSR');
  return f.matrix;
}
function dense(f: ParsedDataFile): DenseRows {
  if (f.matrix.kind !== 'dense') throw new Error('expected dense');
  return f.matrix;
}

/** Runs fn, expecting an OptfleetError with `code` whose message contains every fragment. */
function expectError(fn: () => unknown, code: string, ...fragments: string[]): OptfleetError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(OptfleetError);
  const err = caught as OptfleetError;
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}
const invalid = (text: string, opts: DataFileOptions, ...fragments: string[]): OptfleetError =>
  expectError(() => parseDataText(text, opts), ERROR_CODES.INVALID_ARGUMENT, ...fragments);

describe('parseDataText: libsvm', () => {
  const text = ['1 1:0.5 3:2', '0 2:-1.25', '1', '0 1:1e-3 2:7 3:100'].join('\n');

  it('parses to exact CSR arrays with 0-based column indices', () => {
    const f = parseDataText(text, libsvm());
    expect(f).toMatchObject({ rows: 4, cols: 3, nnz: 6 });
    const m = csr(f);
    expect(m).toMatchObject({ kind: 'csr', rows: 4, cols: 3 });
    expect(Array.from(m.indptr)).toEqual([0, 2, 3, 3, 6]);
    expect(Array.from(m.indices)).toEqual([0, 2, 1, 0, 1, 2]);
    expect(Array.from(m.values)).toEqual([0.5, 2, -1.25, 0.001, 7, 100]);
    expect(Array.from(f.y)).toEqual([1, 0, 1, 0]);
  });

  it.each([
    ['{0,1}', ['1', '0', '1', '0']],
    ['{1,2}', ['2', '1', '2', '1']],
    ['{-1,+1}', ['+1', '-1', '+1', '-1']],
  ])('maps %s labels to ±1 (larger to +1)', (_name, labels) => {
    const lines = labels.map((l, i) => `${l} ${i + 1}:1`);
    const f = parseDataText(lines.join('\n'), libsvm({ binaryLabels: true }));
    expect(Array.from(f.y)).toEqual([1, -1, 1, -1]);
  });

  it('keeps raw labels without binaryLabels (regression targets)', () => {
    const f = parseDataText('3.5 1:1\n-2 1:2\n7 1:3\n', libsvm());
    expect(Array.from(f.y)).toEqual([3.5, -2, 7]);
  });

  it('skips comments, blank lines, qid, CRLF and trailing whitespace', () => {
    const t = '# header comment\r\n\r\n+1 qid:3 2:1 5:0.25 # trailing\r\n   \n-1 qid:3 1:2 \t\n  # only a comment\n';
    const f = parseDataText(t, libsvm({ binaryLabels: true }));
    const m = csr(f);
    expect(f).toMatchObject({ rows: 2, cols: 5, nnz: 3 });
    expect(Array.from(m.indptr)).toEqual([0, 2, 3]);
    expect(Array.from(m.indices)).toEqual([1, 4, 0]);
    expect(Array.from(m.values)).toEqual([1, 0.25, 2]);
    expect(Array.from(f.y)).toEqual([1, -1]);
  });

  it('drops explicit zeros but still checks their order', () => {
    const f = parseDataText('1 1:0 2:3 4:0.0', libsvm());
    expect(Array.from(csr(f).indices)).toEqual([1]);
    expect(f.cols).toBe(2);
    expect(f.nnz).toBe(1);
    invalid('1 2:0 2:1', libsvm(), 'a.libsvm:1:', 'duplicate feature index 2');
  });

  it('reads 0-based indices with zeroBased', () => {
    const f = parseDataText('1 0:1 2:3\n0 1:2', libsvm({ zeroBased: true }));
    expect(f.cols).toBe(3);
    expect(Array.from(csr(f).indices)).toEqual([0, 2, 1]);
  });

  it('uses features as the column count when given', () => {
    const f = parseDataText('1 1:1\n0 2:1', libsvm({ features: 10 }));
    expect(f.cols).toBe(10);
    expect(csr(f).cols).toBe(10);
  });

  it('parses numbers exactly like Number()', () => {
    const vals = ['0.1', '-0.3', '1e-7', '2.5E+3', '123456789012345678', '0.30000000000000004', '.5', '7.'];
    const t = `1 ${vals.map((v, i) => `${i + 1}:${v}`).join(' ')}`;
    expect(Array.from(csr(parseDataText(t, libsvm())).values)).toEqual(vals.map(Number));
  });
});

describe('parseDataText: csv', () => {
  it('reads a header and the label in the last column (default)', () => {
    const f = parseDataText('a,b,label\n1,0,1\n0.5, 2 ,-1\n\n', csv({ header: true, binaryLabels: true }));
    expect(f).toMatchObject({ rows: 2, cols: 2, nnz: 3 });
    const m = dense(f);
    expect(m).toMatchObject({ kind: 'dense', rows: 2, cols: 2 });
    expect(Array.from(m.x)).toEqual([1, 0, 0.5, 2]);
    expect(Array.from(f.y)).toEqual([1, -1]);
  });

  it('reads the label from the first column', () => {
    const f = parseDataText('2,1,2,3\r\n1,4,5,6\r\n', csv({ labelColumn: 'first', binaryLabels: true }));
    expect(f.cols).toBe(3);
    expect(Array.from(dense(f).x)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(f.y)).toEqual([1, -1]);
  });

  it('keeps raw targets without binaryLabels', () => {
    const f = parseDataText('1,2,0.25\n3,4,-8', csv());
    expect(Array.from(f.y)).toEqual([0.25, -8]);
  });
});

describe('sliceRows', () => {
  it('copies a CSR range into SharedArrayBuffer-backed arrays with a re-based indptr', () => {
    const f = parseDataText('1 1:1 2:2\n-1 3:3\n1 1:4 3:5\n-1 2:6', libsvm({ binaryLabels: true }));
    const s = sliceRows(f, 7, 1, 3);
    expect(s.shard).toBe(7);
    expect(s.firstRow).toBe(1);
    const m = s.matrix;
    if (m.kind !== 'csr') throw new Error('expected CSR');
    expect(m).toMatchObject({ rows: 2, cols: 3 });
    for (const a of [m.indptr, m.indices, m.values, s.y]) expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(m.indptr)).toEqual([0, 1, 3]);
    expect(Array.from(m.indices)).toEqual([2, 0, 2]);
    expect(Array.from(m.values)).toEqual([3, 4, 5]);
    expect(Array.from(s.y)).toEqual([-1, 1]);
    // A copy, not a view: writing the shard leaves the file alone.
    m.values[0] = 99;
    expect(csr(f).values[2]).toBe(3);
  });

  it('copies a dense range into SharedArrayBuffer-backed arrays', () => {
    const f = parseDataText('1,2,0\n3,4,1\n5,6,0', csv());
    const s = sliceRows(f, 0, 1, 3);
    const m = s.matrix;
    if (m.kind !== 'dense') throw new Error('expected dense');
    expect(m.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s.y.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(m).toMatchObject({ rows: 2, cols: 2 });
    expect(Array.from(m.x)).toEqual([3, 4, 5, 6]);
    expect(Array.from(s.y)).toEqual([1, 0]);
  });

  it('allows an empty range and rejects one outside the file', () => {
    const f = parseDataText('1 1:1\n0 1:2', libsvm());
    const s = sliceRows(f, 0, 2, 2);
    expect(s.matrix.rows).toBe(0);
    expect(s.y.length).toBe(0);
    expectError(() => sliceRows(f, 0, 1, 3), ERROR_CODES.INVALID_ARGUMENT, '[1, 3)', '2 rows');
    expectError(() => sliceRows(f, 0, 2, 1), ERROR_CODES.INVALID_ARGUMENT, '[2, 1)');
  });
});

describe('errors', () => {
  it('names the line of a non-integer feature index', () => {
    invalid('1 1:1\n\n# c\n1 x:1', libsvm(), 'a.libsvm:4:', 'feature index "x" is not an integer');
    invalid('1 1.5:1', libsvm(), 'a.libsvm:1:', 'feature index "1.5" is not an integer');
    invalid('1 -2:1', libsvm(), 'a.libsvm:1:', 'feature index "-2" is negative');
    invalid('1 :1', libsvm(), 'a.libsvm:1:', 'feature index "" is not an integer');
  });

  it('names a token without a colon', () => {
    invalid('1 1:1\n1 2', libsvm(), 'a.libsvm:2:', 'token "2" is not index:value');
  });

  it('names a value that is not a number, NaN or infinite', () => {
    invalid('1 3:abc', libsvm(), 'a.libsvm:1:', 'value "abc" of feature 3 is not a number');
    invalid('1 3:', libsvm(), 'a.libsvm:1:', 'value "" of feature 3 is not a number');
    invalid('1 3:0x10', libsvm(), 'a.libsvm:1:', 'value "0x10" of feature 3 is not a number');
    invalid('1 1:1\n1 3:NaN', libsvm(), 'a.libsvm:2:', 'NaN in feature 3');
    invalid('1 3:-Infinity', libsvm(), 'a.libsvm:1:', 'infinite value "-Infinity" in feature 3');
    invalid('1 3:1e999', libsvm(), 'a.libsvm:1:', 'infinite value "1e999" in feature 3');
  });

  it('names a bad label', () => {
    invalid('1 1:1\nyes 1:1', libsvm(), 'a.libsvm:2:', 'label "yes" is not a number');
    invalid('nan 1:1', libsvm(), 'a.libsvm:1:', 'NaN label');
    invalid('inf 1:1', libsvm(), 'a.libsvm:1:', 'infinite label "inf"');
    invalid('1,2\nNaN,3', csv({ labelColumn: 'first' }), 'a.csv:2:', 'NaN label');
  });

  it('rejects indices that are not ascending, duplicated or 0 in a 1-based file', () => {
    invalid('1 5:1 3:1', libsvm(), 'a.libsvm:1:', 'not ascending: 3 after 5');
    invalid('1 1:1\n1 3:1 3:2', libsvm(), 'a.libsvm:2:', 'duplicate feature index 3');
    invalid('1 0:1', libsvm(), 'a.libsvm:1:', 'feature index 0', '1-based');
    invalid('1 0:1 0:2', libsvm({ zeroBased: true }), 'a.libsvm:1:', 'duplicate feature index 0');
  });

  it('rejects an index over features, and over the feature limit', () => {
    invalid('1 1:1\n1 124:1', libsvm({ features: 123 }), 'a.libsvm:2:', 'feature index 124', 'features = 123');
    invalid('1 123:1', libsvm({ features: 123, zeroBased: true }), 'a.libsvm:1:', 'features = 123');
    invalid('1 10000001:1', libsvm(), 'a.libsvm:1:', 'feature index 10000001', '10,000,000');
    invalid('1 99999999999999999999:1', libsvm(), 'a.libsvm:1:', '10,000,000');
    expect(parseDataText('1 10000000:1', libsvm()).cols).toBe(MAX_FEATURES);
    invalid('1 1:1', libsvm({ features: MAX_FEATURES + 1 }), 'a.libsvm', '10,000,000');
    invalid('1 1:1', libsvm({ features: 0 }), 'a.libsvm', 'features = 0');
  });

  it('uses the documented limits', () => {
    expect(MAX_NNZ).toBe(2147483647);
    expect(MAX_FEATURES).toBe(10_000_000);
    expect(MAX_ROWS).toBe(100_000_000);
  });

  it('rejects a CSV row of another width, naming both counts', () => {
    invalid('h1,h2,h3\n1,2,3\n4,5,6\n7,8\n', csv({ header: true }), 'a.csv:4:', '2 columns', 'expected 3');
    invalid('1,2,3\n4,5,6,7', csv(), 'a.csv:2:', '4 columns', 'expected 3');
  });

  it('rejects bad CSV cells and column counts', () => {
    invalid('1,2,3\n4,abc,6', csv(), 'a.csv:2:', 'value "abc" of column 2 is not a number');
    invalid('1,,3', csv(), 'a.csv:1:', 'value "" of column 2 is not a number');
    invalid('1,2,3\n4,nan,6', csv(), 'a.csv:2:', 'NaN in column 2');
    invalid('1,2,x', csv(), 'a.csv:1:', 'label "x" is not a number');
    invalid('1\n2', csv(), 'a.csv:1:', '1 column');
    invalid('1,2,3', csv({ features: 3 }), 'a.csv:1:', '2 feature columns', 'features = 3');
  });

  it('names the line of a third distinct label, and rejects a single label', () => {
    invalid('1 1:1\n2 1:1\n1 1:1\n2 1:1\n3 1:1', libsvm({ binaryLabels: true }), 'a.libsvm:5:', 'third distinct label 3');
    invalid('0,1\n1,1\n2,1', csv({ labelColumn: 'first', binaryLabels: true }), 'a.csv:3:', 'third distinct label 2');
    invalid('1 1:1\n1 2:1', libsvm({ binaryLabels: true }), 'a.libsvm', 'two distinct labels', 'only 1');
  });

  it('rejects a file without data rows, naming the path', () => {
    for (const t of ['', '\n\n', '# only comments\n  \n']) invalid(t, libsvm(), 'a.libsvm', 'no data rows');
    invalid('a,b,c\n', csv({ header: true, binaryLabels: true }), 'a.csv', 'no data rows');
    invalid('', csv(), 'a.csv', 'no data rows');
  });

  it('reports a missing or unreadable file as NOT_FOUND naming the path', async () => {
    const missing = '/nonexistent/dir/data.libsvm';
    await expect(readDataFile(libsvm({ path: missing }))).rejects.toMatchObject({
      code: ERROR_CODES.NOT_FOUND,
      message: expect.stringContaining(missing),
    });
    const dir = await mkdtemp(join(tmpdir(), 'optfleet-data-'));
    try {
      // A directory exists but cannot be read as a file.
      await expect(readDataFile(libsvm({ path: dir }))).rejects.toMatchObject({
        code: ERROR_CODES.NOT_FOUND,
        message: expect.stringContaining(dir),
      });
      const file = join(dir, 'x.csv');
      await writeFile(file, '1,2,3\n4,5,6\n');
      const f = await readDataFile(csv({ path: file }));
      expect(f.rows).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('real data', () => {
  it('parses a9a: 48,842 rows, 123 cols, 677,323 nnz, 11,687 positives', async () => {
    const t0 = performance.now();
    const f = await readDataFile({ path: A9A, format: 'libsvm', binaryLabels: true });
    const ms = performance.now() - t0;
    console.log(`a9a: read + parse ${ms.toFixed(1)} ms`);
    expect(f).toMatchObject({ rows: 48842, cols: 123, nnz: 677323 });
    const m = csr(f);
    expect(m.indptr[48842]).toBe(677323);
    // Counted without an expect per row, which would cost more than the parse.
    let positives = 0;
    let negatives = 0;
    for (const v of f.y) {
      if (v === 1) positives++;
      else if (v === -1) negatives++;
    }
    expect(positives).toBe(11687);
    expect(negatives).toBe(48842 - 11687);
    // Generous for a loaded 2-core CI box; typically tens of milliseconds.
    expect(ms).toBeLessThan(1000);
  });

  it('parses the shipped examples/data/a9a-head.libsvm to 2,000 rows', async () => {
    const f = await readDataFile({ path: A9A_HEAD, format: 'libsvm', features: 123, binaryLabels: true });
    expect(f).toMatchObject({ rows: 2000, cols: 123, nnz: 27715 });
    expect(f.y.filter((v) => v === 1).length).toBe(499);
  });
});
