/** The exact bits of a float64 vector as hex: equal strings mean bit-identical iterates (NaN payloads and -0 included). */
export function bits(x: readonly number[]): string {
  return Buffer.from(Float64Array.from(x).buffer).toString('hex');
}
