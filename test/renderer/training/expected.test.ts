import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Project } from '../../../engine/protocol';
import { compare, DEFAULT_TOLERANCE, summary, withExpected, withoutExpected } from '../../../renderer/training/expected';
import { explainSoftmaxIntoCrossEntropy, lastGoodEpoch, removeSoftmax, softmaxIntoCrossEntropy, useLogSoftmaxWithNll } from '../../../renderer/training/pitfalls';

const project = JSON.parse(readFileSync(new URL('../../../assets/examples/seed-tutorial.json', import.meta.url), 'utf8')) as Project;
const seed = JSON.parse(readFileSync(new URL('../../fixtures/seed.json', import.meta.url), 'utf8'));

describe('expected values', () => {
  it("matches the notebook's printed values against PyTorch's within half a unit of the 4th decimal", () => {
    const [entry] = project.expected ?? [];
    const actual = [seed.new_adam_every_iteration.rows[0].probs];
    expect(compare(entry.values, actual, DEFAULT_TOLERANCE).match).toBe(true);
    const wrong = compare([[0.2293, 0.4251, 0.3500]], actual, DEFAULT_TOLERANCE);
    expect(wrong.match).toBe(false);
    expect(wrong.worst).toBeCloseTo(0.3500 - 0.3456626534461975, 9);
    expect(compare([0.2], actual, 1).problem).toBe("The expected values have shape [1], but the engine's have shape [1, 3].");
    expect(compare([Number.NaN as number], [0], 1).match).toBe(false);
  });

  it('keeps one entry per node, quantity and epoch in the project', () => {
    const target = { node: 'softmax', quantity: 'output' as const, epoch: 2 };
    const once = withExpected(project, { ...target, values: [[0.1, 0.2, 0.7]] });
    const twice = withExpected(once, { ...target, values: [[0.2, 0.2, 0.6]] });
    expect(twice.expected).toHaveLength(2);
    expect(twice.expected?.at(-1)?.values).toEqual([[0.2, 0.2, 0.6]]);
    const none = withoutExpected(withoutExpected(twice, target), { ...target, epoch: 1 });
    expect('expected' in none).toBe(false);
    expect(summary([{ entry: twice.expected![0], comparison: { match: true, differences: [], worst: 0 } }, { entry: twice.expected![1], problem: 'x' }])).toEqual({ matching: 1, total: 2 });
  });
});

describe('pitfalls', () => {
  it("finds the seed's Softmax before CrossEntropyLoss and offers both fixes", () => {
    const [found] = softmaxIntoCrossEntropy(project);
    expect([found.softmax.id, found.loss.id]).toEqual(['softmax', 'loss']);
    expect(explainSoftmaxIntoCrossEntropy(found)).toContain("CrossEntropyLoss 'loss' takes the output of Softmax 'softmax'");
    const removed = removeSoftmax(project, found);
    expect(removed.nodes.some((n) => n.id === 'softmax')).toBe(false);
    expect(removed.edges).toContainEqual({ from: { node: 'output', port: 'out' }, to: { node: 'loss', port: 'input' } });
    expect(removed.expected).toEqual([]);
    expect(softmaxIntoCrossEntropy(removed)).toEqual([]);
    const nll = useLogSoftmaxWithNll(project, found);
    expect(nll.nodes.find((n) => n.id === 'softmax')).toMatchObject({ type: 'LogSoftmax', params: { dim: 1 } });
    expect(nll.nodes.find((n) => n.id === 'loss')?.type).toBe('NLLLoss');
    expect(softmaxIntoCrossEntropy(nll)).toEqual([]);
  });

  it('keeps the weights before the step that produced NaN', () => {
    const ok = (epoch: number) => ({ epoch, loss: 1, outputs: [[0.5, 0.5]] });
    expect(lastGoodEpoch([ok(1), ok(2)])).toBeUndefined();
    // A NaN loss in epoch 3 was computed with epoch 2's weights: epoch 1's are the last good ones.
    expect(lastGoodEpoch([ok(1), ok(2), { epoch: 3, loss: Number.NaN, outputs: [[Number.NaN, 0]] }])).toEqual({ bad: 3, good: 1 });
    // A finite loss but NaN outputs: epoch 3's step broke the weights; epoch 2's are good.
    expect(lastGoodEpoch([ok(1), ok(2), { epoch: 3, loss: 1, outputs: [[Number.NaN, 0]] }])).toEqual({ bad: 3, good: 2 });
  });
});
