// The GPU benchmark of issue 3, for a machine with a real GPU and no Node.js build tools
// (../shared/tools/gpu/README.md): matmul at n = 1024, 2048 and 4096 in TFLOP/s with each tiling
// (64×64 and 128×128), a 784-256-128-10 MLP's Adam step at batch 128 and 4096, and the seed
// network's step; then the same in PyTorch on CUDA where python3 has it, and the ratios.
//
//   npm run bench:gpu:pack          (bundles this into .gpu-bundle/gpu.mjs, fills .gpu-pack/)
//   on the GPU machine: source .gpu-pack/unpack.sh && node .gpu-bundle/gpu.mjs | tee $OUT/gpu.txt
//
// Options: --dawn vulkan|opengles|d3d12|metal (default vulkan), --small (small sizes and few
// steps: checks that it runs, e.g. here on Mesa's llvmpipe with --dawn opengles). The last line
// is the result as JSON, dated and with the GPU's name, for the repository's benchmark results.
import { spawnSync } from 'node:child_process';
import * as torch from '../engine/index';
import { acquireDevice, WebGPUBackend } from '../engine/backends/webgpu/index';
import { MATMUL_TILES, type MatmulTiling } from '../engine/backends/webgpu/kernels';

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

/** The number of n×n products timed per repetition: about 2·4096³ multiply-adds' worth, at least 2. */
function products(n: number): number {
  return small ? 2 : Math.max(2, Math.round(2 * (4096 / n) ** 3));
}

/** TFLOP/s of the matmul kernel with `tiling`: `products(n)` products recorded into one command buffer, timed from submit to completion. */
async function matmul(n: number, tiling: MatmulTiling): Promise<number> {
  const context = await acquireDevice(device);
  const backend = new WebGPUBackend(context, { matmulTiling: tiling });
  const values = Float32Array.from({ length: n * n }, (_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const a = backend.fromHost(values, [n, n], 'float32');
  const b = backend.fromHost(values, [n, n], 'float32');
  await backend.download(backend.matmul(a, b, false, false)); // uploads done, pipeline compiled
  const count = products(n);
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

/**
 * The same workloads in PyTorch on CUDA, timed the same way (fp32 matmul without TF32: cuBLAS's
 * fp32 figure), run by python3 when it has torch with CUDA. Prints one line of JSON with the same
 * keys, or {"unavailable": reason}.
 */
const TORCH_CUDA = String.raw`
import json, sys, time
try:
    import torch
except ImportError:
    print(json.dumps({"unavailable": "python3 has no torch"})); sys.exit()
if not torch.cuda.is_available():
    print(json.dumps({"unavailable": "torch " + torch.__version__ + " sees no CUDA device"})); sys.exit()
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
cfg = json.loads(sys.argv[1])
nn, F, dev = torch.nn, torch.nn.functional, "cuda"

def median(reps, run):
    return sorted(run() for _ in range(reps))[reps // 2]

def timed(fn):
    torch.cuda.synchronize(); t0 = time.perf_counter(); fn(); torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3

out = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name()}
for n, count in cfg["matmul"]:
    a = (((torch.arange(n * n, device=dev) * 7919) % 1000) / 1000 - 0.5).reshape(n, n)
    a @ a
    ms = median(5, lambda: timed(lambda: [a @ a for _ in range(count)]))
    out["matmul_%d_tflops" % n] = 2 * n ** 3 * count / (ms * 1e9)

def step_us(model, loss_fn, x, y, steps, **adam):
    opt = torch.optim.Adam(model.parameters(), **adam)
    def step():
        opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    for _ in range(3): step()
    return median(5, lambda: timed(lambda: [step() for _ in range(steps)])) * 1e3 / steps

torch.manual_seed(0)
for batch in cfg["mlp"]:
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).to(dev)
    y = torch.tensor([(i * 7 + 3) % 10 for i in range(batch)], device=dev)
    out["mlp_batch_%d_us" % batch] = step_us(model, F.cross_entropy, torch.randn(batch, 784, device=dev), y, cfg["mlp_steps"])
model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 3), nn.Softmax(dim=1)).to(dev)
x, y = torch.tensor([[0.1, 0.2, 0.7]], device=dev), torch.tensor([1], device=dev)
out["seed_us"] = step_us(model, nn.CrossEntropyLoss(), x, y, cfg["seed_steps"], lr=0.09)
print(json.dumps(out))
`;

/** PyTorch's figures for the same workloads, or why there are none. */
function pytorchCuda(config: { matmul: [number, number][]; mlp: number[]; mlp_steps: number; seed_steps: number }): Record<string, number | string> {
  const run = spawnSync('python3', ['-c', TORCH_CUDA, JSON.stringify(config)], { encoding: 'utf8' });
  if (run.error) return { unavailable: `no python3 (${run.error.message})` };
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as Record<string, number | string>;
  } catch {
    return { unavailable: `python3 failed: ${(run.stderr.trim().split('\n').at(-1) ?? '') || `exit ${run.status}`}` };
  }
}

const sizes = small ? [128, 256, 512] : [1024, 2048, 4096];
const batches = small ? [16, 64] : [128, 4096];
const mlpSteps = small ? 3 : 50;
const seedSteps = small ? 10 : 200;
const tilings = Object.keys(MATMUL_TILES) as MatmulTiling[];
const results: Record<string, number> = {};
for (const n of sizes) {
  for (const tiling of tilings) {
    const { tile } = MATMUL_TILES[tiling];
    const key = `matmul_${n}_${tile}x${tile}_tflops`;
    results[key] = await matmul(n, tiling);
    console.log(`matmul ${n}×${n}×${n}, ${tile}×${tile} tiles: ${results[key].toPrecision(3)} TFLOP/s`);
  }
}
for (const batch of batches) {
  results[`mlp_batch_${batch}_us`] = await stepTime(mlp(batch), mlpSteps);
  console.log(`MLP 784-256-128-10 Adam step, batch ${batch}: ${results[`mlp_batch_${batch}_us`].toFixed(0)} µs`);
}
results.seed_us = await stepTime(seed(), seedSteps);
console.log(`seed network step: ${results.seed_us.toFixed(0)} µs`);

const torchCuda = pytorchCuda({ matmul: sizes.map((n) => [n, products(n)]), mlp: batches, mlp_steps: mlpSteps, seed_steps: seedSteps });
if (typeof torchCuda.unavailable === 'string') console.log(`PyTorch CUDA: not run (${torchCuda.unavailable})`);
else {
  console.log(`PyTorch ${torchCuda.torch} on ${torchCuda.gpu} (fp32, no TF32), ours against it:`);
  const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}×`;
  for (const n of sizes) {
    const theirs = torchCuda[`matmul_${n}_tflops`] as number;
    const ours = tilings.map((t) => `${MATMUL_TILES[t].tile}×${MATMUL_TILES[t].tile} ${ratio(results[`matmul_${n}_${MATMUL_TILES[t].tile}x${MATMUL_TILES[t].tile}_tflops`], theirs)}`);
    console.log(`matmul ${n}: cuBLAS ${theirs.toPrecision(3)} TFLOP/s; ours ${ours.join(', ')} of it`);
  }
  const steps: [string, string][] = [...batches.map((b): [string, string] => [`mlp_batch_${b}_us`, `MLP step, batch ${b}`]), ['seed_us', 'seed step']];
  for (const [key, label] of steps) {
    const theirs = torchCuda[key] as number;
    console.log(`${label}: PyTorch ${theirs.toFixed(0)} µs; ours ${results[key].toFixed(0)} µs, ${ratio(theirs, results[key])} its speed`);
  }
}
console.log(JSON.stringify({ date: new Date().toISOString().slice(0, 10), gpu: gpuName, dawn, small, ...results, pytorch_cuda: torchCuda }));
await torch.webgpu.release();
