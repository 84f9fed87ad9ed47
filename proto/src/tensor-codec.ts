/**
 * Tensor <-> typed array. Tensors travel as raw little-endian bytes; decoding returns a view of the
 * received buffer (no copy) when its offset is aligned to the element size, and validates that the
 * byte length matches the shape exactly, so truncated or padded tensors are caught at the edge.
 */
import { ElementType, type Tensor } from './gen/optfleet/v1/tensor.js';
import { invalidArgument } from './errors.js';
import { LIMITS } from './limits.js';

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
if (!IS_LITTLE_ENDIAN) throw new Error('optfleet requires a little-endian host (tensors are raw little-endian bytes)');

const ELEMENT_NAMES: Record<number, string> = {
  [ElementType.ELEMENT_TYPE_FLOAT64]: 'float64',
  [ElementType.ELEMENT_TYPE_FLOAT32]: 'float32',
  [ElementType.ELEMENT_TYPE_INT32]: 'int32',
  [ElementType.ELEMENT_TYPE_UINT32]: 'uint32',
};

function bytesView(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Wraps a Float64Array as a tensor without copying (the bytes are a view of `a`). */
export function f64Tensor(a: Float64Array, shape: readonly number[] = [a.length]): Tensor {
  return { dtype: ElementType.ELEMENT_TYPE_FLOAT64, shape: [...shape], data: bytesView(a) };
}

/** Wraps a Uint32Array as a tensor without copying. */
export function u32Tensor(a: Uint32Array): Tensor {
  return { dtype: ElementType.ELEMENT_TYPE_UINT32, shape: [a.length], data: bytesView(a) };
}

function checkedLength(t: Tensor, field: string, elementSize: number, maxElements: number): number {
  let count = 1;
  for (const [i, s] of t.shape.entries()) {
    if (!Number.isInteger(s) || s < 0) throw invalidArgument(`${field}.shape[${i}]: ${s} is not a non-negative integer`);
    count *= s;
  }
  if (t.shape.length > LIMITS.tensorRank) {
    throw invalidArgument(`${field}.shape: rank ${t.shape.length} is over the limit of ${LIMITS.tensorRank}`);
  }
  if (count > maxElements) {
    throw invalidArgument(`${field}: ${count} elements is over the limit of ${maxElements}`);
  }
  const expected = count * elementSize;
  if (t.data.byteLength !== expected) {
    const kind = t.data.byteLength < expected ? 'truncated' : 'oversized';
    throw invalidArgument(
      `${field}.data: ${kind} tensor, ${t.data.byteLength} bytes where shape [${t.shape.join(', ')}] of ${ELEMENT_NAMES[t.dtype] ?? '?'} needs ${expected}`,
    );
  }
  return count;
}

function expectType(t: Tensor, field: string, want: ElementType): void {
  if (t.dtype !== want) {
    throw invalidArgument(`${field}.dtype: expected ${ELEMENT_NAMES[want]}, got ${ELEMENT_NAMES[t.dtype] ?? `unknown (${t.dtype})`}`);
  }
}

/**
 * Decodes a float64 tensor. Returns a view of the received bytes when they are 8-aligned, a copy
 * otherwise. Throws INVALID_ARGUMENT naming `field` on a wrong dtype, size or element limit.
 */
export function decodeF64(t: Tensor | undefined, field: string, maxElements: number = LIMITS.tensorElements): Float64Array {
  if (t === undefined) throw invalidArgument(`${field}: missing tensor`);
  expectType(t, field, ElementType.ELEMENT_TYPE_FLOAT64);
  const n = checkedLength(t, field, 8, maxElements);
  const b = t.data;
  if (b.byteOffset % 8 === 0) return new Float64Array(b.buffer, b.byteOffset, n);
  const copy = new Float64Array(n);
  new Uint8Array(copy.buffer).set(b);
  return copy;
}

/** Decodes a uint32 tensor (a view when 4-aligned). */
export function decodeU32(t: Tensor | undefined, field: string, maxElements: number = LIMITS.tensorElements): Uint32Array {
  if (t === undefined) throw invalidArgument(`${field}: missing tensor`);
  expectType(t, field, ElementType.ELEMENT_TYPE_UINT32);
  const n = checkedLength(t, field, 4, maxElements);
  const b = t.data;
  if (b.byteOffset % 4 === 0) return new Uint32Array(b.buffer, b.byteOffset, n);
  const copy = new Uint32Array(n);
  new Uint8Array(copy.buffer).set(b);
  return copy;
}
