/**
 * The host on WebGPU reads values back only when something needs them: per epoch, its step losses
 * (all in one buffer, which the Stepper adds up at the epoch's end), its outputs and its snapshot,
 * whatever its number of steps; and the weights of a progress message that carries them. Counted with torch.webgpu.memory_stats().readBacks,
 * on an in-process host whose GPU (llvmpipe in CI) the test opens first.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import type { EventOf } from '../../../engine/protocol';
import { deviceOptions, useAdapter } from '../backends/webgpu/gpu';
import { exampleDoc, harness } from './helpers';

/**
 * Round trips per epoch without weights in the progress: the epoch's record reads its step losses
 * and its outputs (one each), and the snapshot that traces it reads the weights and optimizer
 * state (one). None per step.
 */
const READS_PER_EPOCH = 2 + 1;

const readBacks = (): number => torch.webgpu.memory_stats()!.readBacks;

/** A host with iris (150 rows) open on WebGPU, in batches of `batchSize` (the example's 16 by default). */
async function irisOnGpu(batchSize?: number) {
  const h = harness();
  const doc = exampleDoc('iris.json');
  doc.training = { ...doc.training, backend: 'webgpu', ...(batchSize ? { batch_size: batchSize } : {}) };
  const opened = (await h.request({ type: 'open', project: doc })) as EventOf<'opened'>;
  expect(opened.device.backend).toBe('webgpu');
  return h;
}

/** A GPU of their own for the tests of a describe block (so its checkpoint log starts empty); the host's init() finds it open. */
function useFreshGpu(): void {
  useAdapter(() => torch.webgpu.init(deviceOptions), () => torch.webgpu.release());
}

for (const [batchSize, steps] of [[16, 10], [150, 1]]) {
  describe(`the host on WebGPU without weights in the progress, ${steps} step${steps === 1 ? '' : 's'} an epoch`, () => {
    useFreshGpu();

    it('reads back three things per epoch, nothing per step', async () => {
      const h = await irisOnGpu(batchSize);
      const epochs = 2;
      const before = readBacks();
      expect(await h.request({ type: 'train', epochs, weights: false })).toMatchObject({ reason: 'finished', epoch: epochs });
      // 6 either way, where reading each step's loss made 24 at 10 steps an epoch. The run logs fewer
      // than CHECKPOINT_CALLS calls, so no checkpoint reads.
      expect(readBacks() - before).toBe(epochs * READS_PER_EPOCH);
    });
  });
}

describe('the host on WebGPU with weights in the progress', () => {
  useFreshGpu();

  it('reads them back at most once per progress message', async () => {
    const h = await irisOnGpu();
    const epochs = 2;
    const id = h.nextId();
    const before = readBacks();
    await h.request({ type: 'train', epochs });
    const progress = h.progressOf(id);
    expect(progress.every((p) => p.weights !== undefined)).toBe(true);
    const forWeights = readBacks() - before - epochs * READS_PER_EPOCH;
    // A message right after an epoch's snapshot, or with no step since the last, reads nothing.
    expect(forWeights).toBeGreaterThanOrEqual(0);
    expect(forWeights).toBeLessThanOrEqual(progress.length);
  });
});
