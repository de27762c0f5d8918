// The GPU benchmark of issue 3, for a machine with a real GPU and no Node.js build tools
// (../shared/tools/gpu/README.md): matmul at n = 1024, 2048 and 4096 in TFLOP/s, a 784-256-128-10
// MLP's Adam step at batch 128 and 4096, and the seed network's step.
//
//   npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --external:webgpu --outfile=.gpu-bundle/gpu.mjs
//   ../shared/tools/gpu/pack.sh                                    (fills .gpu-pack/)
//   on the GPU machine: source .gpu-pack/unpack.sh && node .gpu-bundle/gpu.mjs
//
// Options: --dawn vulkan|opengles|d3d12|metal (default vulkan), --small (small sizes and few
// steps: checks that it runs, e.g. here on Mesa's llvmpipe with --dawn opengles). The last line
// is the result as JSON, dated and with the GPU's name, for the repository's benchmark results.
import * as torch from '../engine/index';
import { acquireDevice, WebGPUBackend } from '../engine/backends/webgpu/index';

const { nn, optim } = torch;
const F = nn.functional;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

const small = process.argv.includes('--small');
const dawn = option('--dawn') ?? 'vulkan';
const device = { backend: dawn, powerPreference: 'high-performance' as const };

/** The median of `reps` timings (ms) of `run`. */
async function median(reps: number, run: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(await run());
  return times.sort((a, b) => a - b)[reps >> 1];
}

/** TFLOP/s of the tiled matmul kernel: `count` products recorded into one command buffer, timed from submit to completion. */
async function matmul(n: number, count: number): Promise<number> {
  const context = await acquireDevice(device);
  const backend = new WebGPUBackend(context);
  const values = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const a = backend.fromHost(values, [n, n], 'float32');
  const b = backend.fromHost(values, [n, n], 'float32');
  await backend.download(a); // uploads done
  const ms = await median(5, async () => {
    for (let i = 0; i < count; i++) backend.release(backend.matmul(a, b, false, false));
    const t0 = performance.now();
    backend.flush();
    await context.device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  });
  backend.dispose();
  context.destroy();
  return (2 * n ** 3 * count) / (ms * 1e9);
}

/** µs per training step, from `steps` steps submitted back to back (each its own command buffer) and one wait. */
async function stepTime(step: () => void, steps: number): Promise<number> {
  for (let i = 0; i < 3; i++) step();
  await torch.webgpu.synchronize();
  const ms = await median(5, async () => {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    await torch.webgpu.synchronize();
    return performance.now() - t0;
  });
  return (ms * 1000) / steps;
}

function mlp(batch: number): () => void {
  torch.manual_seed(0);
  const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128), new nn.ReLU(),
    new nn.Linear(128, 10)).to('webgpu');
  const opt = new optim.Adam(model.parameters());
  const x = torch.randn([batch, 784], { device: 'webgpu' });
  const y = torch.tensor(Array.from({ length: batch }, (_, i) => (i * 7 + 3) % 10), { dtype: 'int64', device: 'webgpu' });
  return () => torch.tidy(() => {
    opt.zero_grad();
    F.cross_entropy(model.forward(x), y).backward();
    opt.step();
  });
}

function seed(): () => void {
  torch.manual_seed(0);
  const model = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 3), new nn.Sigmoid(), new nn.Linear(3, 3),
    new nn.Softmax(1)).to('webgpu');
  const opt = new optim.Adam(model.parameters(), { lr: 0.09 });
  const criterion = new nn.CrossEntropyLoss();
  const x = torch.tensor([[0.1, 0.2, 0.7]], { device: 'webgpu' });
  const y = torch.tensor([1], { dtype: 'int64', device: 'webgpu' });
  return () => torch.tidy(() => {
    opt.zero_grad();
    criterion.forward(model.forward(x), y).backward();
    opt.step();
  });
}

const adapter = await torch.webgpu.init({ ...device, on_fallback: (message) => console.error(message) });
const gpuName = [adapter.device, adapter.description].filter(Boolean).join(', ') || `${adapter.vendor} ${adapter.architecture}`;
console.log(`GPU: ${gpuName} (${adapter.vendor} ${adapter.architecture}, ${adapter.api}${adapter.software ? ', software' : ''})`);

const sizes = small ? [128, 256, 512] : [1024, 2048, 4096];
const results: Record<string, number> = {};
for (const n of sizes) {
  results[`matmul_${n}_tflops`] = await matmul(n, small ? 2 : Math.max(2, Math.round(2 * (4096 / n) ** 3)));
  console.log(`matmul ${n}×${n}×${n}: ${results[`matmul_${n}_tflops`].toPrecision(3)} TFLOP/s`);
}
for (const batch of small ? [16, 64] : [128, 4096]) {
  results[`mlp_batch_${batch}_us`] = await stepTime(mlp(batch), small ? 3 : 50);
  console.log(`MLP 784-256-128-10 Adam step, batch ${batch}: ${results[`mlp_batch_${batch}_us`].toFixed(0)} µs`);
}
results.seed_us = await stepTime(seed(), small ? 10 : 200);
console.log(`seed network step: ${results.seed_us.toFixed(0)} µs`);
console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), gpu: gpuName, dawn, small, ...results }));
await torch.webgpu.release();
