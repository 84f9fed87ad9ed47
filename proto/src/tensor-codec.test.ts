import { describe, expect, it } from 'vitest';
import { Tensor, ElementType } from './gen/optfleet/v1/tensor.js';
import { decodeF64, decodeU32, f64Tensor, u32Tensor } from './tensor-codec.js';
import { OptfleetError } from './errors.js';

describe('tensor codec', () => {
  it('round-trips float64 through protobuf bytes bit for bit', () => {
    const a = new Float64Array([0, -0, 1.5, Number.MIN_VALUE, Number.MAX_VALUE, Math.PI]);
    const wire = Tensor.encode(f64Tensor(a)).finish();
    const back = decodeF64(Tensor.decode(wire), 't');
    expect(Array.from(back)).toEqual(Array.from(a));
    expect(Object.is(back[1], -0)).toBe(true);
  });

  it('decodes without copying when the bytes are 8-aligned', () => {
    const a = new Float64Array([1, 2, 3, 4]);
    const t = f64Tensor(a);
    const v = decodeF64(t, 't');
    expect(v.buffer).toBe(a.buffer);
    v[0] = 42;
    expect(a[0]).toBe(42);
  });

  it('copies when the bytes are misaligned, with the same values', () => {
    const raw = new Uint8Array(8 * 3 + 1);
    new Float64Array(raw.buffer, 0, 3).set([1, 2, 3]);
    raw.copyWithin(1, 0, 24);
    const t = { dtype: ElementType.ELEMENT_TYPE_FLOAT64, shape: [3], data: raw.subarray(1, 25) };
    const v = decodeF64(t, 't');
    expect(Array.from(v)).toEqual([1, 2, 3]);
    expect(v.buffer).not.toBe(raw.buffer);
  });

  it('rejects a truncated tensor naming the field and both sizes', () => {
    const t = f64Tensor(new Float64Array(10));
    const bad = { ...t, data: t.data.subarray(0, 79) };
    expect(() => decodeF64(bad, 'round.points[0]')).toThrowError(
      /round\.points\[0\]\.data: truncated tensor, 79 bytes where shape \[10\] of float64 needs 80/,
    );
  });

  it('rejects an oversized tensor (more bytes than the shape) and one over the element limit', () => {
    const t = { dtype: ElementType.ELEMENT_TYPE_FLOAT64, shape: [2], data: new Uint8Array(24) };
    expect(() => decodeF64(t, 'x')).toThrowError(/oversized tensor, 24 bytes/);
    const big = { dtype: ElementType.ELEMENT_TYPE_FLOAT64, shape: [1000], data: new Uint8Array(8000) };
    const e = (() => {
      try {
        decodeF64(big, 'x', 100);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(OptfleetError);
    expect((e as OptfleetError).code).toBe('INVALID_ARGUMENT');
    expect((e as OptfleetError).message).toMatch(/x: 1000 elements is over the limit of 100/);
  });

  it('rejects a wrong dtype and a missing tensor', () => {
    expect(() => decodeF64(u32Tensor(new Uint32Array(2)), 'y')).toThrowError(/y\.dtype: expected float64, got uint32/);
    expect(() => decodeU32(undefined, 'z')).toThrowError(/z: missing tensor/);
  });
});
