/**
 * The optimizers' steps on the GPU against the CPU's, bit for bit: every option of every
 * optimizer, on the adapter's limits (one fused kernel per parameter) and on compatibility mode's
 * 4 storage buffers per stage (three kernels where the fused one binds more).
 */
import { describe, expect, test } from 'vitest';
import * as torch from '../../../../engine/index';
import type { Tensor } from '../../../../engine/index';
import { webgpuBackend } from '../../../../engine/device';
import type { GpuEngine } from '../../../../engine/backends/webgpu/engine';
import { type OptimizerBuffers, optimizerKernel, type StepKernel } from '../../../../engine/backends/webgpu/optim';
import { deviceOptions, EXACT, mismatches, random, uniform, useAdapter } from './gpu';

const { optim } = torch;

/**
 * Every option of every optimizer, with weight decay and locked elements where they apply, and the
 * storage buffers its fused kernel binds with the lock mask (parameter, gradient, state, mask).
 */
const OPTIMIZERS: [string, number, (params: Tensor[]) => { step(): void }][] = [
  ['SGD', 3, (p) => new optim.SGD(p, { lr: 0.1 })],
  ['SGD momentum dampening weight_decay maximize', 4, (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.9, dampening: 0.3, weight_decay: 0.01, maximize: true })],
  ['SGD nesterov', 4, (p) => new optim.SGD(p, { lr: 0.05, momentum: 0.8, nesterov: true, weight_decay: 0.02 })],
  ['Adam', 5, (p) => new optim.Adam(p, { lr: 0.01 })],
  ['Adam amsgrad weight_decay maximize', 6, (p) => new optim.Adam(p, { lr: 0.02, amsgrad: true, weight_decay: 0.1, maximize: true, betas: [0.8, 0.99] })],
  ['AdamW', 5, (p) => new optim.AdamW(p, { lr: 0.01, weight_decay: 0.05 })],
  ['AdamW amsgrad', 6, (p) => new optim.AdamW(p, { lr: 0.01, amsgrad: true, eps: 1e-6 })],
  ['RMSprop', 4, (p) => new optim.RMSprop(p, { lr: 0.01 })],
  ['RMSprop centered momentum weight_decay maximize', 6, (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.9, weight_decay: 0.01, maximize: true })],
  ['RMSprop centered', 5, (p) => new optim.RMSprop(p, { lr: 0.01, centered: true, alpha: 0.95 })],
  ['RMSprop momentum', 5, (p) => new optim.RMSprop(p, { lr: 0.01, momentum: 0.5, alpha: 0.9 })],
  ['Adagrad', 4, (p) => new optim.Adagrad(p, { lr: 0.1 })],
  ['Adagrad lr_decay weight_decay initial_accumulator_value maximize', 4, (p) => new optim.Adagrad(p, { lr: 0.1, lr_decay: 0.01, weight_decay: 0.1, initial_accumulator_value: 0.3, maximize: true })],
];

/** WebGPU compatibility mode's minimum of storage buffers per shader stage. */
const COMPATIBILITY_MINIMUM = 4;

const DEVICES: [string, number | undefined][] = [
  ["the adapter's limits", undefined],
  ['4 storage buffers per stage', COMPATIBILITY_MINIMUM],
];

for (const [device, storageBuffers] of DEVICES) {
  describe(`optimizer steps on ${device}: the CPU path bit for bit`, () => {
    const gpu = useAdapter(async () => {
      const limits = storageBuffers === undefined ? undefined : { maxStorageBuffersPerShaderStage: storageBuffers };
      await torch.webgpu.init({ ...deviceOptions, limits });
      return webgpuBackend() as GpuEngine;
    }, () => torch.webgpu.release());

    test('the engine keeps to the limit asked for', () => {
      const { limits, device: gpuDevice } = gpu().context;
      expect(limits.maxStorageBuffersPerShaderStage).toBe(storageBuffers ?? gpuDevice.limits.maxStorageBuffersPerShaderStage);
    });

    for (const [name, buffers, make] of OPTIMIZERS) {
      // Three kernels (gradient, state, parameter) only where the fused one does not fit.
      const kernels = storageBuffers !== undefined && buffers > storageBuffers ? 3 : 1;
      test(`${name}: ${kernels} kernel${kernels > 1 ? 's' : ''} per parameter`, async () => {
        gpu();
        const rand = random(name.length);
        const n = 3001;
        const init = uniform(rand, n, -2, 2, false);
        const grads = Array.from({ length: 5 }, () => uniform(rand, n, -1e-3, 1e-3, false).map((v, i) => (i % 7 === 0 ? v * 1e4 : v)));
        const locked = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0));
        const run = async (on: torch.Device): Promise<{ values: Float32Array; dispatches: number[] }> => {
          const p = torch.tensor(Array.from(init), { device: on, requires_grad: true });
          p.locked = locked;
          const opt = make([p]);
          const dispatches: number[] = [];
          for (const g of grads) {
            p.grad = torch.tensor(Array.from(g), { device: on });
            const before = torch.webgpu.memory_stats()!.dispatches;
            opt.step();
            dispatches.push(torch.webgpu.memory_stats()!.dispatches - before);
          }
          return { values: (await p.read()) as Float32Array, dispatches };
        };
        const onGpu = await run('webgpu');
        expect(mismatches(onGpu.values, (await run('cpu')).values, EXACT)).toEqual([]);
        expect(onGpu.dispatches).toEqual(grads.map(() => kernels));
      });
    }
  });
}

test(`every optimizer variant's kernels bind at most ${COMPATIBILITY_MINIMUM} storage buffers when split`, () => {
  const variants: OptimizerBuffers[] = [];
  const states = { sgd: [[], ['buf']], adam: [['m', 'v'], ['m', 'v', 'vmax']], rmsprop: [['sq'], ['sq', 'gavg'], ['sq', 'buf'], ['sq', 'gavg', 'buf']], adagrad: [['sum']] };
  for (const [kind, sets] of Object.entries(states)) {
    for (const state of sets) for (const locked of [false, true]) variants.push({ kind: kind as OptimizerBuffers['kind'], state, locked });
  }
  const storageBuffers = (source: string): number => source.match(/var<storage/g)?.length ?? 0;
  const split: StepKernel[] = ['gradient', 'state', 'parameter'];
  for (const buffers of variants) {
    for (const kernel of split) expect(storageBuffers(optimizerKernel(buffers, kernel)), `${JSON.stringify(buffers)} ${kernel}`).toBeLessThanOrEqual(COMPATIBILITY_MINIMUM);
  }
  // The largest fused variants need the split.
  expect(Math.max(...variants.map((b) => storageBuffers(optimizerKernel(b, 'fused'))))).toBe(6);
});
