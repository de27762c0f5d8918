import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Trace } from '../../../engine/protocol';
import { elementMath, lossMath, neuronMath, texNumber } from '../../../renderer/training/math';

const seed = JSON.parse(readFileSync(new URL('../../fixtures/seed.json', import.meta.url), 'utf8'));
const ctx = { precision: 4 as const, optimizer: { type: 'SGD' as const, lr: 0.5 } };
const grid = (d: number[]) => [[d[0], d[1]], [d[2], d[3]]];

/** The autograd demo's pass as PyTorch computed it: a → y = a³ → m = y² → z = mean(m). */
function demoTrace(): Trace {
  const { a, y, m, z, grad } = seed.autograd_demo;
  const node = (id: string, type: string, from: string | null, output: unknown, g: unknown) => ({
    id, name: id, type, inputs: from ? [{ port: 'in', from, value: grid(from === 'a' ? a.data : from === 'y' ? y.data : m.data), grad: null }] : [], output, grad: g,
  }) as Trace['nodes'][number];
  return {
    sample: 0, epoch: 0, loss: z,
    nodes: [
      node('a', 'Parameter', null, grid(a.data), grid(grad.data)),
      node('y', 'Pow', 'a', grid(y.data), null),
      node('m', 'Pow', 'y', grid(m.data), grid([0.25, 0.25, 0.25, 0.25])),
      node('z', 'Mean', 'm', z, 1),
    ],
    parameters: [{ name: 'a', node: 'a', value: grid(a.data), grad: grid(grad.data), update: null }],
  };
}

describe('elementMath', () => {
  it("works the autograd demo's dz/da = 3a⁵/2 element by element with PyTorch's numbers", () => {
    const params = new Map([['y', { exponent: 3 }], ['m', { exponent: 2 }]]);
    const worked = elementMath(demoTrace(), 'a', [1, 0], ctx, params);
    const [value, chain, closed] = worked.lines;
    expect(value.value).toBe(seed.autograd_demo.a.data[2]);
    // ∂z/∂m · ∂m/∂y · ∂y/∂a = (1/4)(2·y)(3·a²), arriving at PyTorch's gradient.
    expect(chain.tex).toContain('(\\frac{1}{4}) \\cdot (2 \\cdot 5.6655^{1}) \\cdot (3 \\cdot 1.7827^{2})');
    expect(chain.value).toBe(seed.autograd_demo.grad.data[2]);
    expect(chain.tex.endsWith('= 27.0074')).toBe(true);
    expect(closed.tex).toContain('\\frac{3}{2}\\, \\text{a}_{1,0}^{5}');
    expect(() => elementMath(demoTrace(), 'a', [2, 0], ctx, params)).toThrow("'a' has shape [2, 2]; there is no element [2, 0].");
  });
});

/** A Linear layer into a Sigmoid into MSELoss, with hand-picked numbers. */
function layerTrace(): Trace {
  return {
    sample: 0, epoch: 3, loss: 0.09,
    nodes: [
      { id: 'x', name: 'x', type: 'Input', inputs: [], output: [[1, -2]], grad: null },
      { id: 'fc', name: 'fc', type: 'Linear', inputs: [{ port: 'in', from: 'x', value: [[1, -2]], grad: null }], output: [[0.5, -0.25]], grad: [[0.1, -0.2]] },
      { id: 's', name: 's', type: 'Sigmoid', inputs: [{ port: 'in', from: 'fc', value: [[0.5, -0.25]], grad: [[0.1, -0.2]] }], output: [[0.6, 0.4]], grad: [[0.4, -0.8]] },
      { id: 't', name: 't', type: 'Target', inputs: [], output: [[0.3, 0.8]], grad: null },
      { id: 'l', name: 'l', type: 'MSELoss', inputs: [{ port: 'input', from: 's', value: [[0.6, 0.4]], grad: [[0.4, -0.8]] }, { port: 'target', from: 't', value: [[0.3, 0.8]], grad: null }], output: 0.09, grad: 1 },
    ],
    parameters: [
      { name: 'fc.weight', node: 'fc', value: [[0.25, -0.125], [1, 2]], grad: [[0.1, -0.2], [-0.2, 0.4]], update: { optimizer: 'SGD', lr: 0.5, step: 4, state: {}, derived: { lr_grad: [[0.05, -0.1], [-0.1, 0.2]] }, after: [[0.2, -0.025], [1.1, 1.8]], delta: [[-0.05, 0.1], [0.1, -0.2]] } },
      { name: 'fc.bias', node: 'fc', value: [0.125, 0.5], grad: [0.1, -0.2], update: null },
    ],
  };
}

describe('neuronMath', () => {
  it('shows the sum, the activation, the chain rule and the update with the traced numbers', () => {
    const worked = neuronMath(layerTrace(), 'fc', 0, ctx);
    const tex = worked.lines.map((l) => l.tex);
    expect(tex[0]).toBe('z_{0} = \\sum_i w_{0,i}\\, x_i + b_{0} = 0.2500 \\cdot 1.0000 + (-0.1250) \\cdot (-2.0000) + 0.1250 = 0.5000');
    expect(tex[1]).toBe('a_{0} = \\sigma(0.5000) = 0.6000');
    expect(tex[3]).toBe('\\frac{\\partial L}{\\partial z_{0}} = \\frac{\\partial L}{\\partial a_{0}} \\cdot a_{0}\\,(1 - a_{0}) = 0.4000 \\cdot 0.6000\\,(1 - 0.6000) = 0.1000');
    expect(worked.lines.filter((l) => l.tex.startsWith('\\frac{\\partial L}{\\partial w_{0,')).map((l) => l.value)).toEqual([0.1, -0.2]);
    const update = worked.lines.find((l) => l.tex.startsWith("w_{0,0}' ="));
    expect(update?.tex).toBe("w_{0,0}' = w_{0,0} - \\eta\\, g_{t} = 0.2500 - 0.5 \\cdot 0.1000 = 0.2500 - 0.0500 = 0.2000");
    expect(update?.value).toBe(0.2);
    expect(() => neuronMath(layerTrace(), 's', 0, ctx)).toThrow("'s' is a Sigmoid, not a Linear layer");
  });
});

describe('lossMath', () => {
  it("works CrossEntropyLoss on the seed's softmax outputs, and the formula gives PyTorch's loss", () => {
    const rows = seed.new_adam_every_iteration.rows;
    // The loss of step 2 is computed from the outputs after step 1.
    const probs: number[] = rows[0].probs;
    const trace: Trace = {
      sample: 0, epoch: 1, loss: rows[1].loss,
      nodes: [
        { id: 'softmax', name: 'softmax', type: 'Softmax', inputs: [{ port: 'in', from: 'output', value: [[0, 0, 0]], grad: [[0, 0, 0]] }], output: [probs], grad: [[0.1, -0.2, 0.1]] },
        { id: 'labels', name: 'labels', type: 'Target', inputs: [], output: [1], grad: null },
        { id: 'loss', name: 'loss', type: 'CrossEntropyLoss', inputs: [{ port: 'input', from: 'softmax', value: [probs], grad: [[0.1, -0.2, 0.1]] }, { port: 'target', from: 'labels', value: [1], grad: null }], output: rows[1].loss, grad: 1 },
      ],
      parameters: [],
    };
    const worked = lossMath(trace, 'loss', ctx);
    const forward = worked.lines.find((l) => l.title === 'Forward');
    expect(forward?.tex).toBe('L = -\\log \\frac{e^{x_{c}}}{\\sum_j e^{x_j}} = -x_{1} + \\log \\sum_j e^{x_j} = -0.4251 + \\log\\big(e^{0.2293} + e^{0.4251} + e^{0.3457}\\big) = 1.0101');
    // What the line says is what PyTorch computed.
    expect(-probs[1] + Math.log(probs.reduce((s, x) => s + Math.exp(x), 0))).toBeCloseTo(rows[1].loss, 6);
    expect(worked.notes[0]).toContain('cannot fall below log(1 + 2/e) = 0.5514');
  });
});

describe('texNumber', () => {
  it('writes scientific notation as a power of ten', () => {
    expect(texNumber(2.189225023485619e-9, 4)).toBe('2.1892 \\times 10^{-9}');
    expect(texNumber(Number.NaN, 4)).toBe('\\text{NaN}');
  });
});
