// npm run bench [-- [--backend cpu|webgpu] [--dawn vulkan|opengles|...] [--only seed|mlp]]
// Runs bundled by esbuild, as the app ships the engine (no per-module indirection), from the repo root.
// µs per training step (forward, backward, Adam step, zero_grad) of the engine, next to PyTorch
// (one thread) and TF.js's wasm backend (one thread) where they are installed, each in its own
// process, one after another so they don't share the CPU. On webgpu a step includes waiting for
// the GPU (Dawn's default backend, else OpenGL ES: Mesa's llvmpipe here, figures for regressions;
// bench/gpu.ts measures real GPUs).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as torch from '../engine/index';
import { BUDGET, measure, selectedWorkloads, type Timing, type Workload } from './timing';

const { nn, optim } = torch;
const F = nn.functional;

/** The issue's figures, from its author's machine on one CPU thread, for context. */
const ISSUE = { pytorch: { seed: 172, mlp: 6100 }, tfjs: { seed: 743, mlp: 28000 } } as const;

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** Linear(3,3)→ReLU→Linear(3,3)→Sigmoid→Linear(3,3)→Softmax(1), CrossEntropyLoss on the softmax. */
function seedStep(device: torch.Device): () => void {
  torch.manual_seed(0);
  const model = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 3),
    new nn.Sigmoid(), new nn.Linear(3, 3), new nn.Softmax(1)).to(device);
  const criterion = new nn.CrossEntropyLoss();
  const opt = new optim.Adam(model.parameters(), { lr: 0.09 });
  const x = torch.tensor([[0.1, 0.2, 0.7]], { device });
  const y = torch.tensor([1], { dtype: 'int64', device });
  return () => torch.tidy(() => {
    opt.zero_grad();
    criterion.forward(model.forward(x), y).backward();
    opt.step();
  });
}

/** 784-256-128-10 with ReLU, cross_entropy on class indices, batch 128, Adam. */
function mlpStep(device: torch.Device): () => void {
  torch.manual_seed(0);
  const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 128),
    new nn.ReLU(), new nn.Linear(128, 10)).to(device);
  const opt = new optim.Adam(model.parameters());
  const x = torch.randn([128, 784], { device });
  const y = torch.tensor(Array.from({ length: 128 }, (_, i) => (i * 7 + 3) % 10), { dtype: 'int64', device });
  return () => torch.tidy(() => {
    opt.zero_grad();
    F.cross_entropy(model.forward(x), y).backward();
    opt.step();
  });
}

/** measure() for GPU steps: each timed step waits for the GPU to finish it. */
async function measureWebGPU(step: () => void, warmupMs: number, measureMs: number, minSteps = 20): Promise<Timing> {
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) {
    step();
    await torch.webgpu.synchronize();
  }
  const times: number[] = [];
  const end = performance.now() + measureMs;
  while (performance.now() < end || times.length < minSteps) {
    const t0 = performance.now();
    step();
    await torch.webgpu.synchronize();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { us: times[times.length >> 1] * 1000, steps: times.length };
}

/** Opens the GPU: the Dawn backend asked for, else Dawn's default, else OpenGL ES (Mesa's llvmpipe on a machine without a GPU). */
async function openWebGPU(dawn: string | undefined): Promise<string> {
  const tries = dawn ? [dawn] : [undefined, 'opengles'];
  for (const [i, backend] of tries.entries()) {
    try {
      const adapter = await torch.webgpu.init({ backend, powerPreference: 'high-performance', on_fallback: (m) => console.error(m) });
      return `${adapter.device || adapter.description} via ${adapter.api}`;
    } catch (error) {
      if (!(error instanceof torch.webgpu.GpuUnavailableError) || i === tries.length - 1) throw error;
    }
  }
  throw new Error('unreachable');
}

type PeerResult = { name: string; timings: Partial<Record<Workload, Timing>> } | { name: string; missing: string };

/** Runs a peer's script, which prints its JSON result as its last line of output. */
function runPeer(name: string, command: string, args: string[]): PeerResult {
  const run = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = (run.stdout ?? '').trim().split('\n');
  if (run.status !== 0) {
    const error = (run.stderr || run.error?.message || '').trim().split('\n').slice(-1)[0];
    return { name, missing: `failed: ${error.slice(0, 120)}` };
  }
  const result = JSON.parse(lines[lines.length - 1]) as { version: string; threads: number } & Partial<Record<Workload, Timing>>;
  return { name: `${name} ${result.version} (${result.threads} thread)`, timings: result };
}

function pytorch(workloads: Workload[]): PeerResult {
  const python = '/usr/bin/python3';
  if (spawnSync(python, ['-c', 'import torch']).status !== 0) return { name: 'PyTorch', missing: 'not installed' };
  const script = path.resolve('bench/torch_bench.py');
  return runPeer('PyTorch', python, [script, ...onlyArgs(workloads)]);
}

function tfjs(workloads: Workload[]): PeerResult {
  const require = createRequire(import.meta.url);
  try {
    require.resolve('@tensorflow/tfjs-core');
    require.resolve('@tensorflow/tfjs-backend-wasm');
  } catch {
    return { name: 'TF.js wasm', missing: 'not installed' };
  }
  const script = path.resolve('bench/tfjs.ts');
  return runPeer('TF.js wasm', process.execPath, ['--import', 'tsx', script, ...onlyArgs(workloads)]);
}

function onlyArgs(workloads: Workload[]): string[] {
  return workloads.length === 1 ? ['--only', workloads[0]] : [];
}

function formatUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
}

/** "12.3× faster" / "1.50× slower": how our time compares with theirs. */
function compare(ours: number, theirs: number): string {
  return theirs >= ours ? `${(theirs / ours).toFixed(2)}× faster` : `${(ours / theirs).toFixed(2)}× slower`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

const backend = option('--backend') ?? 'cpu';
if (backend !== 'cpu' && backend !== 'webgpu') {
  console.error(`unknown backend '${backend}': 'cpu' or 'webgpu'`);
  process.exit(2);
}
const workloads = selectedWorkloads(process.argv);
if (backend === 'webgpu') console.error(`WebGPU: ${await openWebGPU(option('--dawn'))}`);

const ours: Partial<Record<Workload, Timing>> = {};
for (const workload of workloads) {
  const { warmupMs, measureMs } = BUDGET[workload];
  const step = workload === 'seed' ? seedStep(backend) : mlpStep(backend);
  ours[workload] = backend === 'webgpu' ? await measureWebGPU(step, warmupMs, measureMs) : measure(step, warmupMs, measureMs);
  console.error(`Backprop Studio (${backend}) ${workload}: ${formatUs(ours[workload].us)}`);
}
await torch.webgpu.release();
const peers = [pytorch(workloads), tfjs(workloads)];

const rows = [['workload', 'implementation', 'time/step', 'steps', 'Backprop Studio is']];
for (const workload of workloads) {
  const mine = ours[workload]!;
  rows.push([workload, `Backprop Studio (${backend})`, formatUs(mine.us), String(mine.steps), '']);
  for (const peer of peers) {
    const theirs = 'timings' in peer ? peer.timings[workload] : undefined;
    rows.push(theirs
      ? [workload, peer.name, formatUs(theirs.us), String(theirs.steps), compare(mine.us, theirs.us)]
      : [workload, peer.name, 'missing' in peer ? peer.missing : 'no result', '', '']);
  }
}
console.log(`\n${table(rows)}\n`);

// The issue's targets, against this machine's peers and against the issue's own figures.
const [torchPeer, tfjsPeer] = peers.map((p) => ('timings' in p ? p.timings : {}));
const targets: [string, Workload, number | undefined, number, (ratio: number) => boolean][] = [
  ['seed ≥ 20× faster than PyTorch', 'seed', torchPeer.seed?.us, ISSUE.pytorch.seed, (r) => r >= 20],
  ['mlp faster than TF.js wasm', 'mlp', tfjsPeer.mlp?.us, ISSUE.tfjs.mlp, (r) => r > 1],
  ['mlp within 2× of PyTorch', 'mlp', torchPeer.mlp?.us, ISSUE.pytorch.mlp, (r) => r >= 0.5],
];
const targetRows = [['target', 'here: theirs/ours', '', 'issue figures: theirs/ours', '']];
for (const [label, workload, here, issue, ok] of targets) {
  const mine = ours[workload];
  if (!mine) continue;
  const cells = (theirs: number | undefined) => theirs === undefined ? ['n/a', ''] :
    [`${(theirs / mine.us).toFixed(2)}`, ok(theirs / mine.us) ? 'met' : 'NOT met'];
  targetRows.push([label, ...cells(here), ...cells(issue)]);
}
// The targets are the CPU engine's.
if (backend === 'cpu' && targetRows.length > 1) console.log(`${table(targetRows)}\n`);

// The editor's benchmark (issue 6): a 500-node graph, and the training view's (issue 7): a
// 10,000-epoch run with live charts; each in headless Chromium, in its own process.
if (backend === 'cpu' && !process.argv.includes('--only')) {
  for (const [name, script] of [['editor', 'bench/editor.ts'], ['training view', 'bench/training_view.ts']]) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.resolve(script)], { encoding: 'utf8' });
    const printed = run.stdout.trim().split('\n').filter((line) => line.startsWith(name)).join('\n');
    console.log((printed || `${name}: ${(run.stderr || 'no result').trim().split('\n').slice(-1)[0]}`) + '\n');
  }
}
