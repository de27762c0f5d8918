import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import { loadProject } from '../../../engine/project/load';
import type { EpochRecord } from '../../../engine/project/schema';
import { startTraining } from '../../../engine/project/train';
import { deviceOptions, useAdapter } from '../backends/webgpu/gpu';
import { exampleDoc } from './helpers';

/** The fixtures' tolerance over a training run (engine/README.md, "Devices", "Numbers"). */
const TOL = 1e-5;

/** The run's records, and the GPU tensors alive after each epoch. */
async function train(doc: unknown, backend: 'cpu' | 'webgpu', epochs?: number): Promise<{ records: EpochRecord[]; live: number[] }> {
  const training = startTraining(loadProject(JSON.stringify(doc)), { backend, epochs });
  expect(training.device.backend).toBe(backend);
  const records: EpochRecord[] = [];
  const live: number[] = [];
  for await (const record of training.records()) {
    records.push(record);
    live.push(torch.webgpu.memory_stats()?.live ?? 0);
  }
  return { records, live };
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

  it('adds up an epoch of shuffled batches, in flat GPU memory', async () => {
    const doc = exampleDoc('xor.json') as { training: Record<string, unknown> };
    doc.training = { ...doc.training, batch_size: 2, shuffle: true };
    const gpu = await train(doc, 'webgpu', 6);
    expectAgree(gpu.records, await records(doc, 'cpu', 6));
    expect(new Set(gpu.live.slice(1)).size, `live GPU tensors after each epoch: ${gpu.live.join(', ')}`).toBe(1);
  });

  it("leaves a small model on the CPU with 'auto' (llvmpipe is a software adapter)", () => {
    const training = startTraining(loadProject(JSON.stringify(exampleDoc('seed-tutorial.json'))));
    expect(training.device).toEqual({ backend: 'cpu' });
  });
});
