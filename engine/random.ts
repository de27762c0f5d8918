import type { Storage } from './dtype';

/**
 * PyTorch's CPU random generator: mt19937 seeded with the low 32 bits of the seed, uniform floats
 * from 24 random bits (float32) or 53 (float64), so seeded initial weights equal PyTorch's.
 */
export class Generator {
  private readonly state = new Uint32Array(624);
  private index = 624;
  private spareNormal: number | null = null;

  constructor(seed = 67280421310721) {
    this.manual_seed(seed);
  }

  manual_seed(seed: number): this {
    const s = this.state;
    s[0] = Number(BigInt.asUintN(32, BigInt(Math.trunc(seed))));
    for (let i = 1; i < 624; i++) {
      const prev = s[i - 1] ^ (s[i - 1] >>> 30);
      // 1812433253 * prev + i, modulo 2^32, without losing bits to floating point.
      s[i] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + i) >>> 0;
    }
    this.index = 624;
    this.spareNormal = null;
    return this;
  }

  private twist(): void {
    const s = this.state;
    for (let i = 0; i < 624; i++) {
      const y = (s[i] & 0x80000000) | (s[(i + 1) % 624] & 0x7fffffff);
      s[i] = s[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }

  /** The next 32 random bits. */
  random(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A double in [0, 1) from 53 random bits, the first draw giving the high bits. */
  random53(): number {
    const hi = this.random() & 0x1fffff;
    const lo = this.random();
    return (hi * 4294967296 + lo) / 9007199254740992;
  }

  /** uniform_(from, to) element by element, as PyTorch's CPU kernel does for this storage type. */
  fillUniform(storage: Storage, from: number, to: number): void {
    if (storage instanceof Float32Array) {
      const lo = Math.fround(from);
      const range = Math.fround(Math.fround(to) - lo);
      for (let i = 0; i < storage.length; i++) storage[i] = ((this.random() & 0xffffff) / 16777216) * range + lo;
    } else {
      for (let i = 0; i < storage.length; i++) storage[i] = fusedMultiplyAdd(this.random53(), to - from, from);
    }
  }

  /** A standard normal sample (Box–Muller on 53-bit uniforms). */
  normal(): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return z;
    }
    const u1 = 1 - this.random53();
    const u2 = this.random53();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

const SPLITTER = 134217729; // 2^27 + 1: Veltkamp's split of a double into two 26-bit halves

/**
 * a·b + c rounded once, as the fused multiply-add that PyTorch's compiled uniform_ uses for
 * float64 (Dekker's exact product, then the exact sum's rounding error folded back in).
 */
function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const p = a * b;
  const as = SPLITTER * a;
  const ah = as - (as - a);
  const al = a - ah;
  const bs = SPLITTER * b;
  const bh = bs - (bs - b);
  const bl = b - bh;
  const productError = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  const s = p + c;
  const v = s - p;
  const sumError = (p - (s - v)) + (c - v);
  return s + (sumError + productError);
}

export const defaultGenerator = new Generator();

export function manual_seed(seed: number): Generator {
  return defaultGenerator.manual_seed(seed);
}
