/**
 * The WebAssembly SIMD element-wise kernels (elementwise.wat) against the JavaScript loops they
 * replace in the CPU backend, bit for bit, over float32's special values and row widths around
 * the vector size; and the backend's ops on tensors large enough to take them.
 */
import { describe, expect, it } from 'vitest';
import { cpu } from '../../../../engine/backends/cpu/index';
import { addRowsWasm, reluBackwardWasm, reluWasm, sumRowsWasm } from '../../../../engine/backends/cpu/elementwise_wasm';
import { binaryFns, unaryBackwardFns, unaryFns } from '../../../../engine/ops/pointwise';
import { Tensor } from '../../../../engine/tensor';
import { expectSameBits, float32Values } from '../../float32_bits';

const f = Math.fround;
const WIDTHS = [1, 3, 4, 5, 10, 256, 257];
/** rows × width for each width, over the kernels' 256-element minimum, with a single-row case. */
const SHAPES = [...WIDTHS.map((w) => [Math.ceil(300 / w) + 1, w]), [1, 1001]];

describe('element-wise kernels: WebAssembly SIMD equals JavaScript bit for bit', () => {
  it('relu and its gradient', () => {
    for (const n of [256, 257, 1003, 4096]) {
      const x = float32Values(n, n);
      const g = float32Values(n, n + 1);
      const out = new Float32Array(n);
      expect(reluWasm(x, out)).toBe(true);
      expectSameBits(out, x.map((v) => unaryFns.relu(v)), 'relu');
      expect(reluBackwardWasm(g, x, out)).toBe(true);
      expectSameBits(out, g.map((v, i) => unaryBackwardFns.relu(v, x[i])), 'relu backward');
    }
  });

  it('a row added to every row, and the sum over rows', () => {
    for (const [rows, width] of SHAPES) {
      const x = float32Values(rows * width, rows + width);
      const row = float32Values(width, rows * width);
      const out = new Float32Array(rows * width);
      expect(addRowsWasm(x, row, out)).toBe(true);
      expectSameBits(out, x.map((v, i) => binaryFns.add(v, row[i % width])), `add ${rows}×${width}`);
      const acc = new Float64Array(width);
      expect(sumRowsWasm(x, acc)).toBe(true);
      const expected = new Float64Array(width);
      for (let i = 0; i < x.length; i++) expected[i % width] += x[i];
      expectSameBits(acc, expected, `sum ${rows}×${width}`);
    }
  });

  it('leaves small and non-float32 operands to JavaScript', () => {
    expect(reluWasm(new Float32Array(255), new Float32Array(255))).toBe(false);
    expect(reluWasm(new Float64Array(512), new Float64Array(512))).toBe(false);
    expect(addRowsWasm(new Float32Array(512), new Float64Array(4), new Float32Array(512))).toBe(false);
    expect(sumRowsWasm(new Float64Array(512), new Float64Array(4))).toBe(false);
  });

  it('the CPU backend\'s relu, bias add and batch sum on tensors that take them', () => {
    const tensor = (data: Float32Array, shape: number[]): Tensor => new Tensor(data, shape, 'float32', cpu);
    const x = float32Values(128 * 10, 7);
    const b = float32Values(10, 8);
    const xt = tensor(x, [128, 10]);
    expectSameBits(cpu.unary('relu', xt, []).data, x.map((v) => unaryFns.relu(v)), 'relu');
    expectSameBits(cpu.binary('add', xt, tensor(b, [10])).data, x.map((v, i) => f(v + b[i % 10])), 'bias add');
    const sums = new Float64Array(10);
    for (let i = 0; i < x.length; i++) sums[i % 10] += x[i];
    expectSameBits(cpu.sum(xt, [0], false).data, Float32Array.from(sums), 'sum over the batch');
  });
});
