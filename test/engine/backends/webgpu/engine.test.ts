/**
 * The engine on WebGPU: tensors and modules on the GPU, one command buffer per training step, flat
 * memory over 10,000 steps with tidy(), device loss in the middle of training, and errors that
 * name the kernel and shapes.
 * (The fixtures run on WebGPU in test/engine/*.test.ts, the optimizer steps in optim.test.ts.)
 */
import { describe, expect, test } from 'vitest';
import * as torch from '../../../../engine/index';
import type { Tensor } from '../../../../engine/index';
import { webgpuBackend, writeInto } from '../../../../engine/device';
import type { Storage } from '../../../../engine/dtype';
import type { CrossEntropyOptions } from '../../../../engine/nn/losses';
import type { ParamState } from '../../../../engine/optim/optimizer';
import { GpuFailure } from '../../../../engine/backends/webgpu/backend';
import type { GpuEngine } from '../../../../engine/backends/webgpu/engine';
import { unaryLayout } from '../../../../engine/backends/webgpu/kernels';
import { acquireDevice, WebGPUBackend } from '../../../../engine/backends/webgpu/index';
import { deviceOptions, EXACT, mismatches, random, uniform, useAdapter } from './gpu';

const { nn, optim } = torch;
const F = nn.functional;

const fallbacks: string[] = [];
const gpu = useAdapter(async () => {
  await torch.webgpu.init({ ...deviceOptions, on_fallback: (message) => fallbacks.push(message) });
  return webgpuBackend() as GpuEngine;
}, () => torch.webgpu.release());

describe('scheduling and memory', () => {
  test('a training step is one command buffer; nothing is read back unless asked', async () => {
    const engine = gpu();
    torch.manual_seed(1);
    const model = new nn.Sequential(new nn.Linear(3, 5), new nn.ReLU(), new nn.Linear(5, 2)).to('webgpu');
    const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const x = torch.randn([4, 3], { device: 'webgpu' });
    const y = torch.tensor([0, 1, 1, 0], { dtype: 'int64', device: 'webgpu' });
    await torch.webgpu.synchronize();
    const queue = engine.context.device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (buffers) => {
      submits += 1;
      submit(buffers);
    };
    try {
      const losses = [];
      for (let i = 0; i < 10; i++) {
        opt.zero_grad();
        const loss = F.cross_entropy(model.forward(x), y);
        loss.backward();
        opt.step();
        losses.push(loss);
      }
      expect(submits).toBe(10);
      const values = await Promise.all(losses.map((l) => l.read()));
      expect(values[9][0]).toBeLessThan(values[0][0]);
    } finally {
      queue.submit = submit;
    }
  });

  test('steady state allocates nothing: the pool stays flat over 10,000 steps (tidy, a read every 100)', async () => {
    gpu();
    torch.manual_seed(2);
    const model = new nn.Linear(2, 1, { bias: false }).to('webgpu');
    const opt = new optim.SGD(model.parameters(), { lr: 0.01 });
    const x = torch.randn([4, 2], { device: 'webgpu' });
    const y = torch.randn([4, 1], { device: 'webgpu' });
    // What is allocated (not what is free: earlier tests' garbage returns whenever it is collected).
    const allocated = (): unknown => {
      const { pool, staging, uniformChunks } = torch.webgpu.memory_stats()!;
      return { buffers: pool.buffers, bytes: pool.bytes, staging: staging.buffers, stagingBytes: staging.bytes, uniformChunks };
    };
    const start = torch.webgpu.memory_stats()!.pool.buffers;
    let warm = null;
    const losses: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      let read: Promise<Storage> | null = null;
      torch.tidy(() => {
        opt.zero_grad();
        const loss = model.forward(x).sub(y).pow(2).sum();
        loss.backward();
        opt.step();
        if (i % 100 === 99) read = loss.read(); // the copy is recorded now: tidy may free the loss
      });
      if (read) losses.push((await read)[0]);
      if (i === 999) warm = allocated();
    }
    expect(allocated()).toEqual(warm);
    expect(torch.webgpu.memory_stats()!.pool.buffers - start).toBeLessThan(20);
    expect(losses[99]).toBeLessThan(losses[0]);
  }, 60_000);

  test("a fresh optimizer every step (the seed's loop) inside tidy: its state goes with the step, the pool stays flat over 200 steps", async () => {
    gpu();
    torch.manual_seed(5);
    const model = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 3), new nn.Sigmoid(), new nn.Linear(3, 3)).to('webgpu');
    const x = torch.randn([2, 3], { device: 'webgpu' });
    const y = torch.tensor([1, 2], { dtype: 'int64' });
    const held = (): unknown => {
      const { pool, live } = torch.webgpu.memory_stats()!;
      return { buffers: pool.buffers, inUse: pool.buffers - pool.free, live };
    };
    let warm = null;
    let first: Promise<Storage> | null = null;
    let last: Promise<Storage> | null = null;
    // Synchronous: no garbage collection of earlier tensors can return buffers meanwhile.
    for (let i = 0; i < 200; i++) {
      torch.tidy(() => {
        model.zero_grad();
        const loss = F.cross_entropy(model.forward(x), y);
        loss.backward();
        new optim.Adam(model.parameters(), { lr: 0.05 }).step();
        if (i === 0) first = loss.read();
        if (i === 199) last = loss.read();
      });
      if (i === 9) warm = held();
    }
    expect(held()).toEqual(warm);
    expect((await last!)[0]).toBeLessThan((await first!)[0]);
  });

  test('an optimizer made in an outer tidy keeps its state through the inner ones, and loses it with its own', async () => {
    gpu();
    const w = torch.tensor([1, -2, 3], { device: 'webgpu', requires_grad: true });
    let state: ParamState | undefined;
    const engineLive = torch.tidy(() => {
      const opt = new optim.Adam([w], { lr: 0.1 });
      for (let i = 0; i < 3; i++) {
        torch.tidy(() => {
          opt.zero_grad();
          w.pow(2).sum().backward();
          opt.step();
        });
      }
      state = opt.state.get(w);
      return torch.webgpu.memory_stats()!.live;
    });
    expect(torch.webgpu.memory_stats()!.live).toBe(engineLive - 2);
    expect(state?.step).toBe(3);
    await expect((state?.exp_avg as Tensor).read()).rejects.toThrow(/freed/);
    // An optimizer made outside tidy keeps its state for good.
    const opt = new optim.Adam([w], { lr: 0.1 });
    torch.tidy(() => {
      opt.zero_grad();
      w.pow(2).sum().backward();
      opt.step();
    });
    expect((await (opt.state.get(w)!.exp_avg as Tensor).read()).length).toBe(3);
  });

  test('tidy() frees what it made except what it returns; gradients and parameters stay', async () => {
    gpu();
    const w = torch.tensor([1, 2, 3], { device: 'webgpu', requires_grad: true });
    let inner: Tensor | null = null;
    const kept = torch.tidy(() => {
      inner = w.mul(2);
      const out = inner.sum();
      out.backward();
      return out;
    });
    expect(Array.from(await kept.read())).toEqual([12]);
    expect(Array.from(await (w.grad as Tensor).read())).toEqual([2, 2, 2]);
    expect(Array.from(await w.read())).toEqual([1, 2, 3]);
    await expect((inner as unknown as Tensor).read()).rejects.toThrow(/freed.*tidy/);
    // A gradient replaced since (zero_grad) is freed by the next tidy.
    const grad = w.grad as Tensor;
    w.grad = null;
    torch.tidy(() => undefined);
    await expect(grad.read()).rejects.toThrow(/freed/);
  });
});

describe('fused kernels', () => {
  /** Kernels dispatched by `fn`. */
  function dispatches(fn: () => void): number {
    const before = torch.webgpu.memory_stats()!.dispatches;
    fn();
    return torch.webgpu.memory_stats()!.dispatches - before;
  }

  const weight = torch.tensor(Array.from({ length: 70 }, (_, i) => [0.5, 2, 0, 1.25][i % 4]));
  const CASES: [string, CrossEntropyOptions][] = [
    ['mean', {}],
    ['sum, class weights', { reduction: 'sum', weight }],
    ['none, ignore_index', { reduction: 'none', ignore_index: 3 }],
    ['mean, class weights, ignore_index', { weight, ignore_index: 0 }],
  ];

  for (const [name, options] of CASES) {
    test(`cross_entropy (${name}): one kernel each way, the same bits as log_softmax and nll_loss on the GPU`, async () => {
      gpu();
      const rand = random(name.length);
      // 70 classes: more than a row workgroup's 64 invocations; ±∞, NaN and ±0 among the logits.
      const logits = Array.from(uniform(rand, 13 * 70, -30, 30));
      const y = torch.tensor(Array.from({ length: 13 }, (_, i) => (i * 37) % 70), { dtype: 'int64' });
      const run = async (loss: (x: Tensor) => Tensor): Promise<{ value: Storage; grad: Storage; kernels: number }> => {
        const x = torch.tensor(logits, { device: 'webgpu' }).reshape([13, 70]);
        x.requires_grad = true;
        let out: Tensor | null = null;
        const kernels = dispatches(() => {
          out = loss(x);
          (options.reduction === 'none' ? (out as Tensor).sum() : (out as Tensor)).backward();
        });
        return { value: await (out as unknown as Tensor).read(), grad: await (x.grad as Tensor).read(), kernels };
      };
      const fused = await run((x) => F.cross_entropy(x, y, options));
      const composed = await run((x) => F.nll_loss(F.log_softmax(x, 1), y, options));
      expect(mismatches(fused.value, composed.value, EXACT)).toEqual([]);
      expect(mismatches(fused.grad, composed.grad, EXACT)).toEqual([]);
      expect(fused.kernels).toBeLessThan(composed.kernels);
    });
  }
});

describe('matmul epilogue: bias and activation', () => {
  const ACTIVATIONS = [['relu', F.relu], ['sigmoid', F.sigmoid], ['tanh', F.tanh]] as const;
  for (const [name, activation] of ACTIVATIONS) {
    test(`Linear + ${name}: one kernel forward, the same bits as matmul, add and ${name}, and the same gradients`, async () => {
      gpu();
      const rand = random(name.length + 7);
      // Odd sizes across tile edges; ±∞, NaN and ±0 among the inputs, and outputs past tanh's and sigmoid's saturation.
      const [n, inF, outF] = [67, 19, 70];
      const xs = Array.from(uniform(rand, n * inF, -4, 4));
      const ws = Array.from(uniform(rand, outF * inF, -1, 1, false));
      const bs = Array.from(uniform(rand, outF, -1, 1, false));
      const run = async (forward: (x: Tensor, w: Tensor, b: Tensor) => Tensor) => {
        const x = torch.tensor(xs, { device: 'webgpu' }).reshape([n, inF]);
        const w = torch.tensor(ws, { device: 'webgpu' }).reshape([outF, inF]);
        const b = torch.tensor(bs, { device: 'webgpu' });
        for (const t of [x, w, b]) t.requires_grad = true;
        const before = torch.webgpu.memory_stats()!.dispatches;
        const y = forward(x, w, b);
        const kernels = torch.webgpu.memory_stats()!.dispatches - before;
        y.mul(y).sum().backward();
        const grads = await Promise.all([x, w, b].map((t) => (t.grad as Tensor).read()));
        return { y: await y.read(), grads, kernels, grad_fn: y.grad_fn?.name };
      };
      const fused = await run((x, w, b) => new nn.Sequential(Object.assign(new nn.Linear(inF, outF), { weight: w, bias: b }),
        new { relu: nn.ReLU, sigmoid: nn.Sigmoid, tanh: nn.Tanh }[name]()).forward(x));
      const composed = await run((x, w, b) => activation(torch.matmul(x, torch.transpose(w, 0, 1)).add(b)));
      expect(fused.kernels).toBe(1);
      expect(fused.grad_fn).toBe(composed.grad_fn);
      expect(mismatches(fused.y, composed.y, EXACT)).toEqual([]);
      fused.grads.forEach((g, i) => expect(mismatches(g, composed.grads[i], EXACT)).toEqual([]));
    });
  }
});

describe('tensors and modules on the GPU', () => {
  test('values are read asynchronously; synchronous readers work after a read, until the values change', async () => {
    gpu();
    const x = torch.tensor([[1, 2], [3, 4]], { device: 'webgpu' });
    expect(x.device).toBe('webgpu');
    expect(torch.tensor([5], { device: 'webgpu' }).item()).toBe(5); // uploaded values are host data already
    const y = x.mul(2);
    expect(() => y.tolist()).toThrow(/await t.read\(\)/);
    expect(() => y.data).toThrow(/on the GPU/);
    expect(() => y.to('cpu')).toThrow(/await t.read\(\)/);
    expect(Array.from(await y.read())).toEqual([2, 4, 6, 8]);
    expect(y.tolist()).toEqual([[2, 4], [6, 8]]);
    expect(String(y)).toBe('tensor([[2., 4.],\n        [6., 8.]])');
    const host = await y.cpu();
    expect(host.device).toBe('cpu');
    expect(Array.from(host.data)).toEqual([2, 4, 6, 8]);
    expect(() => torch.tensor([1], { dtype: 'float64', device: 'webgpu' })).toThrow(/float64 tensors stay on the CPU/);
  });

  test('CPU operands (targets, scalars, masks) join the GPU operand; a number keeps the GPU side', async () => {
    gpu();
    const input = torch.tensor([[2, 0], [0, 1]], { device: 'webgpu', requires_grad: true });
    const loss = F.mse_loss(input, torch.tensor([[1, 1], [1, 1]]));
    expect(loss.device).toBe('webgpu');
    loss.backward();
    expect(Array.from(await loss.read())).toEqual([0.75]);
    expect(Array.from(await (input.grad as Tensor).read())).toEqual([0.5, -0.5, -0.5, 0]);
    expect(torch.tensor([3]).mul(input.detach()).device).toBe('webgpu');
  });

  test("module.to() moves parameters in place; load_state_dict writes into them; to('cpu') after a fetch", async () => {
    gpu();
    torch.manual_seed(3);
    const model = new nn.Linear(2, 2);
    const weight = model.weight;
    const opt = new optim.SGD(model.parameters(), { lr: 1 });
    model.to('webgpu');
    expect(model.weight).toBe(weight);
    expect(weight.device).toBe('webgpu');
    model.load_state_dict({ weight: [[1, 2], [3, 4]], bias: [0, 0] });
    weight.grad = torch.ones([2, 2], { device: 'webgpu' });
    model.bias!.grad = torch.zeros([2], { device: 'webgpu' });
    opt.step();
    expect(() => model.to('cpu')).toThrow(/fetch|read/);
    await torch.webgpu.fetch(model);
    model.to('cpu');
    expect(weight.device).toBe('cpu');
    expect(weight.tolist()).toEqual([[0, 1], [2, 3]]);
  });

  test('writeInto writes a slot in place, in order with the kernels; a slot past the end names the shapes', async () => {
    gpu();
    const slots = torch.zeros([3], { device: 'webgpu' });
    const x = torch.tensor([2], { device: 'webgpu' });
    for (let i = 0; i < 3; i++) writeInto(slots, x.mul(i + 1).sum(), i); // each step's 0-d result into its slot
    writeInto(slots, torch.tensor([-1]), 2); // a CPU source, uploaded for the copy
    expect(Array.from(await slots.read())).toEqual([2, 4, -1]);
    expect(() => writeInto(slots, x, 3)).toThrow('copyInto: [1] into [3] at element 3');
  });

  test("'auto' keeps models on the CPU on a software adapter, and small models everywhere", () => {
    gpu();
    const big = new nn.Linear(256, 256).to('auto');
    expect(big.weight.device).toBe(torch.webgpu.adapter()?.software ? 'cpu' : 'webgpu');
    expect(new nn.Linear(3, 3).to('auto').weight.device).toBe('cpu');
  });
});

describe('failure', () => {
  test('a compile or validation error names the kernel and the op and shapes of its first use', async () => {
    gpu();
    // A broken kernel, dispatched as the backend dispatches its own (which all compile), on a device of its own.
    const context = await acquireDevice(deviceOptions);
    const backend = new WebGPUBackend(context);
    const x = backend.fromHost(new Float32Array([1, 2]), [2], 'float32');
    (backend as unknown as { dispatch(...args: unknown[]): void }).dispatch('broken kernel', () => 'not wgsl', unaryLayout,
      'broken [2, 3] [4]', () => undefined, [x.buffer, x.buffer], 1);
    await context.device.queue.onSubmittedWorkDone();
    expect(() => backend.unary('exp', x, [])).toThrow(/broken kernel: first used by broken \[2, 3\] \[4\]/);
    backend.dispose();
    context.destroy();
  });

  /**
   * 120 steps of a small classifier with Adam; `fail(step)` may break the GPU at any point of a
   * step. `fresh`: the seed's loop, a new Adam every step inside the step's tidy().
   */
  async function train(device: torch.Device, fail: (step: number, at: 'backward' | 'step') => void = () => undefined, fresh = false) {
    torch.manual_seed(4);
    const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 3)).to(device);
    let opt = new optim.Adam(model.parameters(), { lr: 0.01 });
    const x = torch.randn([16, 4], { device });
    const y = torch.tensor(Array.from({ length: 16 }, (_, i) => i % 3), { dtype: 'int64', device });
    const losses: number[] = [];
    for (let step = 0; step < 120; step++) {
      const { read } = torch.tidy(() => {
        opt.zero_grad();
        const loss = F.cross_entropy(model.forward(x), y);
        fail(step, 'backward');
        loss.backward();
        fail(step, 'step');
        if (fresh) opt = new optim.Adam(model.parameters(), { lr: 0.01 });
        opt.step();
        return { read: step % 20 === 19 ? loss.read() : null };
      });
      if (read) losses.push((await read)[0]);
    }
    await torch.webgpu.fetch(model, opt);
    return {
      params: model.parameters().map((p) => p.toArray() as Float32Array),
      steps: [...opt.state.values()].map((s) => s.step),
      losses,
      devices: model.parameters().map((p) => p.device),
    };
  }

  /** The engine now, opened again if a test before broke it. */
  async function engineNow(): Promise<GpuEngine> {
    if (!torch.webgpu.is_available()) {
      await torch.webgpu.release();
      await torch.webgpu.init({ ...deviceOptions, on_fallback: (message) => fallbacks.push(message) });
    }
    return webgpuBackend() as GpuEngine;
  }

  async function expectSameTraining(run: Awaited<ReturnType<typeof train>>, fresh = false): Promise<void> {
    const reference = await train('cpu', undefined, fresh);
    expect(run.steps).toEqual(Array(4).fill(fresh ? 1 : 120));
    expect(run.devices).toEqual(['cpu', 'cpu', 'cpu', 'cpu']);
    const close = { atol: 1e-6, rtol: 1e-5 };
    run.params.forEach((p, i) => expect(mismatches(p, reference.params[i], close)).toEqual([]));
    expect(mismatches(run.losses, reference.losses, close)).toEqual([]);
  }

  test('device lost mid-training: one sentence, and training carries on on the CPU from the current weights and state', async () => {
    gpu();
    const engine = await engineNow();
    fallbacks.length = 0;
    const run = await train('webgpu', (step, at) => {
      if (step === 73 && at === 'backward') engine.context.device.destroy();
    });
    expect(fallbacks).toHaveLength(1);
    expect(fallbacks[0]).toMatch(/^WebGPU stopped: the GPU device was lost .*; training continues on the CPU with the current weights and optimizer state\.$/);
    await expectSameTraining(run);
    expect(torch.webgpu.is_available()).toBe(false);
    expect(torch.tensor([1], { device: 'webgpu' }).device).toBe('cpu');
  });

  test("device lost in the seed's loop: the steps of optimizers freed since the checkpoint replay on the CPU", async () => {
    gpu();
    const engine = await engineNow();
    fallbacks.length = 0;
    const run = await train('webgpu', (step, at) => {
      if (step === 97 && at === 'step') engine.context.device.destroy();
    }, true);
    expect(fallbacks).toHaveLength(1);
    await expectSameTraining(run, true);
  });

  test('out of memory inside an optimizer step: the same, from that parameter on', async () => {
    gpu();
    const engine = await engineNow();
    fallbacks.length = 0;
    const run = await train('webgpu', (step, at) => {
      // As Dawn reports it: the next call on the GPU throws the failure.
      if (step === 50 && at === 'step') (engine.kernels as unknown as { failure: GpuFailure }).failure = new GpuFailure('the GPU ran out of memory (test)', 'oom');
    });
    expect(fallbacks).toEqual(['WebGPU stopped: the GPU ran out of memory (test); training continues on the CPU with the current weights and optimizer state.']);
    await expectSameTraining(run);
  });
});
