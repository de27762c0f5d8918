/**
 * The host on WebGPU reads values back only when something needs them: each step's loss (one
 * scalar, which the Stepper adds up at the epoch's end), the epoch's outputs and snapshot, and the
 * weights of a progress message that carries them. Counted with torch.webgpu.memory_stats().readBacks,
 * on an in-process host whose GPU (llvmpipe in CI) the test opens first.
 */
import { describe, expect, it } from 'vitest';
import * as torch from '../../../engine/index';
import type { EventOf } from '../../../engine/protocol';
import { deviceOptions, useAdapter } from '../backends/webgpu/gpu';
import { exampleDoc, harness } from './helpers';

/** iris.json: 150 rows in batches of 16. */
const STEPS_PER_EPOCH = 10;

const readBacks = (): number => torch.webgpu.memory_stats()!.readBacks;

/** A host with iris open on WebGPU. */
async function irisOnGpu() {
  const h = harness();
  const doc = exampleDoc('iris.json');
  doc.training = { ...doc.training, backend: 'webgpu' };
  const opened = (await h.request({ type: 'open', project: doc })) as EventOf<'opened'>;
  expect(opened.device.backend).toBe('webgpu');
  return h;
}

/** A GPU of their own for the tests of a describe block (so its checkpoint log starts empty); the host's init() finds it open. */
function useFreshGpu(): void {
  useAdapter(() => torch.webgpu.init(deviceOptions), () => torch.webgpu.release());
}

describe('the host on WebGPU without weights in the progress', () => {
  useFreshGpu();

  it('reads back each step\'s loss and two things per epoch, no weights per step', async () => {
    const h = await irisOnGpu();
    const epochs = 2;
    const before = readBacks();
    expect(await h.request({ type: 'train', epochs, weights: false })).toMatchObject({ reason: 'finished', epoch: epochs });
    // Per step its loss; per epoch the outputs (the record) and the weights and optimizer state (the
    // snapshot that traces it): 24, where reading the weights after every step would make 44. The run
    // logs fewer than CHECKPOINT_CALLS calls, so no checkpoint reads.
    expect(readBacks() - before).toBe(epochs * STEPS_PER_EPOCH + 2 * epochs);
  });
});

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
    const forWeights = readBacks() - before - (epochs * STEPS_PER_EPOCH + 2 * epochs);
    // A message right after an epoch's snapshot, or with no step since the last, reads nothing.
    expect(forWeights).toBeGreaterThanOrEqual(0);
    expect(forWeights).toBeLessThanOrEqual(progress.length);
  });
});
