import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import { loadProject } from '../../../engine/project/load';
import type { EpochRecord } from '../../../engine/project/schema';
import { startTraining, Stepper } from '../../../engine/project/train';
import { webgpuBackend } from '../../../engine/device';
import type { GpuEngine } from '../../../engine/backends/webgpu/engine';
import { deviceOptions, useAdapter } from '../backends/webgpu/gpu';
import { exampleDoc } from './helpers';

/** The fixtures' tolerance over a training run (engine/README.md, "Devices", "Numbers"). */
const TOL = 1e-5;

/** After each epoch: the GPU's tensors alive and its pool, its staging pool, and its read-backs so far (the first before training). */
interface Held {
  pool: string[];
  staging: string[];
  readBacks: number[];
}

/** The run's records, and what the GPU holds after each epoch. */
async function train(doc: unknown, backend: 'cpu' | 'webgpu', epochs?: number): Promise<{ records: EpochRecord[] } & Held> {
  const training = startTraining(loadProject(JSON.stringify(doc)), { backend, epochs });
  expect(training.device.backend).toBe(backend);
  const records: EpochRecord[] = [];
  const readBacks = () => torch.webgpu.memory_stats()?.readBacks ?? 0;
  const held: Held = { pool: [], staging: [], readBacks: [readBacks()] };
  for await (const record of training.records()) {
    records.push(record);
    const stats = torch.webgpu.memory_stats();
    held.pool.push(stats ? `${stats.live} tensors, ${stats.pool.buffers} buffers (${stats.pool.bytes} B)` : 'none');
    held.staging.push(stats ? `${stats.staging.buffers} buffers (${stats.staging.bytes} B)` : 'none');
    held.readBacks.push(readBacks());
  }
  return { records, ...held };
}

/** xor.json (4 rows) in shuffled batches of `batchSize`. */
function xorInBatches(batchSize: number): unknown {
  const doc = exampleDoc('xor.json') as { training: Record<string, unknown> };
  doc.training = { ...doc.training, batch_size: batchSize, shuffle: true };
  return doc;
}

const records = async (doc: unknown, backend: 'cpu' | 'webgpu', epochs?: number) => (await train(doc, backend, epochs)).records;

function expectAgree(gpu: EpochRecord[], cpu: EpochRecord[]): void {
  expect(gpu.map((r) => r.epoch)).toEqual(cpu.map((r) => r.epoch));
  gpu.forEach((r, i) => {
    expect(Math.abs(r.loss - cpu[i].loss), `loss, epoch ${r.epoch}`).toBeLessThanOrEqual(TOL);
    const got = (r.outputs as number[][]).flat();
    const want = (cpu[i].outputs as number[][]).flat();
    expect(got).toHaveLength(want.length);
    got.forEach((v, j) => expect(Math.abs(v - want[j]), `output ${j}, epoch ${r.epoch}`).toBeLessThanOrEqual(TOL));
  });
}

describe('the training runner on WebGPU', () => {
  useAdapter(() => torch.webgpu.init({ ...deviceOptions, on_fallback: (m) => { throw new Error(`unexpected fallback: ${m}`); } }), () => torch.webgpu.release());

  it('trains the seed example as the CPU does, all 49 epochs', async () => {
    const doc = exampleDoc('seed-tutorial.json');
    const gpu = await records(doc, 'webgpu');
    expect(gpu).toHaveLength(49);
    expectAgree(gpu, await records(doc, 'cpu'));
  });

  it('adds up an epoch of shuffled batches, in flat GPU memory over 100 epochs', async () => {
    const doc = xorInBatches(2);
    const gpu = await train(doc, 'webgpu', 100);
    expectAgree(gpu.records, await records(doc, 'cpu', 100));
    // Each epoch's losses buffer returns to the pool at its end: no epoch leaves anything behind.
    expect(new Set(gpu.pool.slice(1)).size, `after each epoch: ${gpu.pool.join('; ')}`).toBe(1);
    // Staging buffers too, once the first checkpoint (a bigger read, after CHECKPOINT_CALLS calls) has made its own.
    expect(new Set(gpu.staging.slice(50)).size, `staging after each epoch: ${gpu.staging.join('; ')}`).toBe(1);
  });

  it("leaves a small model on the CPU with 'auto' (llvmpipe is a software adapter)", () => {
    const training = startTraining(loadProject(JSON.stringify(exampleDoc('seed-tutorial.json'))));
    expect(training.device).toEqual({ backend: 'cpu' });
  });
});

describe('the training runner on a WebGPU device of its own', () => {
  const fallbacks: string[] = [];
  useAdapter(() => torch.webgpu.init({ ...deviceOptions, on_fallback: (m) => fallbacks.push(m) }), () => torch.webgpu.release());

  it('reads back twice an epoch, whatever its number of steps: its step losses, and its outputs', async () => {
    for (const batchSize of [1, 2, 4]) {
      const { readBacks } = await train(xorInBatches(batchSize), 'webgpu', 3);
      // 21 steps in all, too few calls for a checkpoint's read-back (CHECKPOINT_CALLS).
      expect(readBacks.slice(1).map((n, i) => n - readBacks[i]), `${4 / batchSize} steps an epoch`).toEqual([2, 2, 2]);
    }
  });

  it('loses the device mid-epoch after a checkpoint saved part of its losses: the epoch ends on the CPU, no step lost', async () => {
    const doc = exampleDoc('iris.json'); // 150 rows in batches of 16: 10 steps an epoch
    const project = loadProject(JSON.stringify(doc));
    const epochs = 8;
    const training = startTraining(project, { backend: 'webgpu', epochs });
    const stepper = new Stepper(project, training.graph);
    const engine = webgpuBackend() as GpuEngine;
    const gpu: EpochRecord[] = [];
    let checkpointed: number | null = null;
    let lostAt: number | null = null;
    fallbacks.length = 0;
    while (stepper.epoch < epochs) {
      const record = await stepper.stepAsync();
      if (record) gpu.push(record);
      if (lostAt !== null) continue;
      // synchronize() waits for a checkpoint in flight: one has cut the log when it is empty.
      await torch.webgpu.synchronize();
      if (checkpointed === null && torch.webgpu.memory_stats()!.log === 0 && stepper.batch >= 1 && stepper.batch <= 8) {
        checkpointed = stepper.steps;
      } else if (checkpointed !== null) {
        engine.context.device.destroy(); // one step later, the same epoch
        lostAt = stepper.steps;
      }
    }
    expect(lostAt, 'no checkpoint mid-epoch').not.toBeNull();
    expect(fallbacks).toHaveLength(1);
    expect(training.device.backend).toBe('cpu');
    expect(stepper.steps).toBe(epochs * 10);
    expectAgree(gpu, await records(doc, 'cpu', epochs));
  });
});
