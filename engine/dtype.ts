/** Element types. int64 holds class indices (exact up to 2^53); it never requires grad. */
export type DType = 'float32' | 'float64' | 'int64';
export type Storage = Float32Array | Float64Array;

export function allocate(dtype: DType, length: number): Storage {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** The result type of a binary op, as PyTorch promotes (float32 with float64 gives float64). */
export function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

export function isFloating(dtype: DType): boolean {
  return dtype !== 'int64';
}

const identity = (x: number): number => x;

/** The rounding of a dtype's storage: float32 arithmetic is emulated by rounding after each step. */
export function rounding(dtype: DType): (x: number) => number {
  return dtype === 'float32' ? Math.fround : identity;
}
