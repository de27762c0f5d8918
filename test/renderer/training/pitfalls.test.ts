import { describe, expect, it } from 'vitest';
import type { EventOf } from '../../../engine/protocol';
import { firstNonFinite, lastGoodEpoch } from '../../../renderer/training/pitfalls';
import { exampleDoc, harness } from '../../engine/host/helpers';

const record = (epoch: number, loss: number, outputs: number[][] = [[0.5, 0.5]]) => ({ epoch, loss, outputs });

describe('a run that turns NaN', () => {
  it('finds the first bad epoch and the last epoch whose weights are good', () => {
    expect(lastGoodEpoch([record(1, 0.7), record(2, 0.6)])).toBeUndefined();
    // A NaN loss in epoch 3 was computed with epoch 2's weights: those are bad too.
    expect(lastGoodEpoch([record(1, 0.7), record(2, 0.6), record(3, Number.NaN), record(4, Number.NaN)])).toEqual({ bad: 3, good: 1 });
    // A finite loss but outputs (after the step) that overflowed: the step of epoch 3 broke them.
    expect(lastGoodEpoch([record(1, 0.7), record(2, 0.6), record(3, 0.5, [[Number.POSITIVE_INFINITY, 0]])])).toEqual({ bad: 3, good: 2 });
    // In the first epoch nothing but the initial weights is good.
    expect(lastGoodEpoch([record(1, Number.NaN)])).toEqual({ bad: 1, good: 0 });
  });

  it('names the first place a NaN appears in the engine\'s trace of the bad epoch', async () => {
    // Iris with SGD at lr 1e20: the first epoch's steps overflow the weights to ±inf, then NaN.
    const doc = exampleDoc('iris.json');
    doc.training = { ...(doc.training as object), optimizer: { type: 'SGD', lr: 1e20 } };
    const h = harness();
    await h.request({ type: 'open', project: doc });
    const id = h.nextId();
    await h.request({ type: 'train', epochs: 3 });
    const records = h.progressOf(id).flatMap((p) => p.records);
    const nan = lastGoodEpoch(records);
    expect(nan).toEqual({ bad: 1, good: 0 });
    const bad = ((await h.request({ type: 'trace', sample: 0, epoch: nan?.bad })) as EventOf<'traced'>).trace;
    expect(firstNonFinite(bad)).toMatch(/^parameter (hidden|output)\.(weight|bias)$/);
    const good = ((await h.request({ type: 'trace', sample: 0, epoch: nan?.good })) as EventOf<'traced'>).trace;
    expect(firstNonFinite(good)).toBeUndefined();
  });

  it('names a node by its output, then by its gradient, when the parameters are finite', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const trace = ((await h.request({ type: 'trace', sample: 0 })) as EventOf<'traced'>).trace;
    const withNaN = (id: string, field: 'output' | 'grad') => ({ ...trace, nodes: trace.nodes.map((n) => (n.id === id ? { ...n, [field]: [[Number.NaN]] } : n)) });
    expect(firstNonFinite(withNaN('sigmoid', 'output'))).toBe("Sigmoid 'sigmoid' (its output)");
    // Gradients flow backwards: the one nearest the loss is where the NaN came in.
    const both = withNaN('hidden', 'grad');
    both.nodes = both.nodes.map((n) => (n.id === 'out' ? { ...n, grad: [[Number.NaN]] } : n));
    expect(firstNonFinite(both)).toBe("Linear 'out' (its gradient)");
  });
});
