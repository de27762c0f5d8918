import { describe, expect, it } from 'vitest';
import { record } from '../../engine/autograd';
import * as torch from '../../engine/index';

const { nn, optim } = torch;

describe('autograd', () => {
  it('sums the gradients of a value used twice', () => {
    const x = torch.tensor([1.5, -2, 3], { dtype: 'float64', requires_grad: true });
    x.mul(x).add(x).sum().backward();
    // d/dx (x² + x) = 2x + 1
    expect(x.grad?.tolist()).toEqual([4, -3, 7]);
  });

  it('accumulates .grad over backward calls until it is cleared', () => {
    const x = torch.tensor([2], { dtype: 'float64', requires_grad: true });
    x.pow(3).sum().backward();
    x.pow(3).sum().backward();
    expect(x.grad?.tolist()).toEqual([24]); // 2 · 3x²
  });

  it('sums the gradient of a broadcast operand back to its shape', () => {
    const a = torch.zeros([2, 3], { requires_grad: true });
    const b = torch.zeros([3], { requires_grad: true });
    const c = torch.zeros([2, 1], { requires_grad: true });
    a.add(b).add(c).sum().backward();
    expect(b.grad?.tolist()).toEqual([2, 2, 2]);
    expect(c.grad?.tolist()).toEqual([[3], [3]]);
    expect(a.grad?.shape).toEqual([2, 3]);
  });

  it('broadcasts a 0-d tensor against a higher-rank one to the higher rank', () => {
    const scalar = torch.tensor(2);
    expect(scalar.mul(torch.ones([1, 1])).shape).toEqual([1, 1]);
    expect(torch.ones([1, 1, 1]).add(torch.ones([1])).shape).toEqual([1, 1, 1]);
    // A batch of one through a loss: the gradient keeps the output's shape.
    const p = torch.tensor([[0.25]], { requires_grad: true });
    torch.nn.functional.binary_cross_entropy(p, torch.tensor([[1]])).backward();
    expect(p.grad?.shape).toEqual([1, 1]);
  });

  it('keeps the gradient of an intermediate value only when asked (retain_grad)', () => {
    const a = torch.tensor([1, 2], { dtype: 'float64', requires_grad: true });
    const hidden = a.mul(3);
    const kept = hidden.pow(2);
    kept.retain_grad();
    kept.sum().backward();
    expect(kept.grad?.tolist()).toEqual([1, 1]);
    expect(hidden.grad).toBeNull();
    expect(a.grad?.tolist()).toEqual([18, 36]); // 2·(3a)·3
  });

  it("gives every .grad values of its own: not another's, not a view's, not the caller's gradient", () => {
    const a = torch.tensor([1, 2], { requires_grad: true });
    const b = torch.tensor([3, 4], { requires_grad: true });
    const c = torch.tensor([[5, 6]], { requires_grad: true });
    const out = a.add(b).add(c.reshape([2])).add(a.clone());
    const gradient = torch.tensor([1, 1]);
    out.backward(gradient);
    const grads = [a.grad, b.grad, c.grad].map((g) => g as torch.Tensor);
    // Writing into one changes no other, nor the gradient passed in.
    for (const g of grads) g.data[0] = 100;
    expect(grads.map((g) => g.tolist())).toEqual([[100, 2], [100, 1], [[100, 1]]]);
    expect(gradient.tolist()).toEqual([1, 1]);

    // A leaf's own backward() with a gradient: .grad is a copy of it.
    const leaf = torch.tensor([7], { requires_grad: true });
    const seed = torch.tensor([2]);
    leaf.backward(seed);
    seed.data[0] = 0;
    expect(leaf.grad?.tolist()).toEqual([2]);
  });

  it('lets no gradient through detach() and records nothing under no_grad', () => {
    const a = torch.tensor([1, 2], { requires_grad: true });
    const inside = torch.no_grad(() => a.mul(2));
    expect(inside.requires_grad).toBe(false);
    expect(inside.grad_fn).toBeNull();
    expect(torch.is_grad_enabled()).toBe(true);
    const out = a.mul(a.detach());
    out.sum().backward();
    expect(a.grad?.tolist()).toEqual([1, 2]); // only the non-detached factor counts
  });

  it('names the backward functions as PyTorch does', () => {
    const a = torch.tensor([[0.1, 0.2]], { requires_grad: true });
    expect(a.pow(3).grad_fn?.name).toBe('PowBackward0');
    expect(a.mean().grad_fn?.name).toBe('MeanBackward0');
    expect(a.softmax(1).grad_fn?.name).toBe('SoftmaxBackward0');
    expect(a.is_leaf).toBe(true);
    expect(a.mul(2).is_leaf).toBe(false);
  });

  it('walks very deep graphs without overflowing the stack', () => {
    const x = torch.tensor([1], { dtype: 'float64', requires_grad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.add(1);
    y.sum().backward();
    expect(x.grad?.tolist()).toEqual([1]);
  });

  it('leaves no gradient of a failed backward pass behind for the next one', () => {
    const w = torch.tensor([1, 2], { dtype: 'float64', requires_grad: true });
    const x = torch.tensor([5], { dtype: 'float64', requires_grad: true });
    const total = w.mul(3).sum();
    const failing = record(x.mul(1), 'FailingBackward', [x], () => {
      throw new Error('backward failed');
    });
    // The pass fails in `failing`'s backward, after handing `total` its gradient, before using it.
    expect(() => total.add(failing.sum()).backward()).toThrow(/backward failed/);
    expect(torch.is_grad_enabled()).toBe(true);
    expect(w.grad).toBeNull();
    total.mul(1).backward();
    expect(w.grad?.tolist()).toEqual([3, 3]);
  });

  it('explains what is wrong instead of failing obscurely', () => {
    expect(() => torch.tensor([1, 2]).backward()).toThrow(/does not require grad/);
    expect(() => torch.tensor([1, 2], { requires_grad: true }).mul(2).backward()).toThrow(/scalar output/);
    expect(() => torch.tensor([1], { dtype: 'int64', requires_grad: true })).toThrow(/floating-point/);
    expect(() => torch.tensor([[1, 2], [3]])).toThrow(/rectangular/);
    expect(() => torch.zeros([2, 3]).add(torch.zeros([4]))).toThrow(/cannot be broadcast/);
    expect(() => torch.zeros([2, 3]).matmul(torch.zeros([2, 3]))).toThrow(/cannot be multiplied/);
  });
});

describe('dropout', () => {
  const F = nn.functional;

  it('is the identity in eval mode', () => {
    const x = torch.rand([4, 5]);
    expect(F.dropout(x, { p: 0.3, training: false })).toBe(x);
    const layer = new nn.Dropout(0.3).eval();
    expect(layer.forward(x)).toBe(x);
  });

  it('zeroes about p of the elements and scales the rest by 1/(1-p), the same for the same seed', () => {
    const x = torch.ones([100, 100]);
    const y = F.dropout(x, { p: 0.25, generator: new torch.Generator().manual_seed(7) });
    const values = Array.from(y.toArray());
    const zeros = values.filter((v) => v === 0).length / values.length;
    expect(zeros).toBeGreaterThan(0.23);
    expect(zeros).toBeLessThan(0.27);
    expect(values.every((v) => v === 0 || v === Math.fround(1 / 0.75))).toBe(true);
    const again = F.dropout(x, { p: 0.25, generator: new torch.Generator().manual_seed(7) });
    expect(Array.from(again.toArray())).toEqual(values);
  });
});

describe('modules', () => {
  class Network extends nn.Module {
    hidden = new nn.Linear(3, 3);
    hidden2 = new nn.Linear(3, 3);
    output = new nn.Linear(3, 3);
    sigmoid = new nn.Sigmoid();

    forward(x: torch.Tensor): torch.Tensor {
      return this.output.forward(this.sigmoid.forward(this.hidden2.forward(this.hidden.forward(x))));
    }
  }

  it("names parameters as PyTorch's state_dict does, in definition order", () => {
    const net = new Network();
    net.hidden.weight = nn.Parameter(torch.tensor([[0.1, 0.3, 0.4], [0.2, 0.2, 0.3], [0.3, 0.7, 0.9]]));
    expect(Object.keys(net.state_dict())).toEqual([
      'hidden.weight', 'hidden.bias', 'hidden2.weight', 'hidden2.bias', 'output.weight', 'output.bias',
    ]);
    expect(Object.keys(new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 1)).state_dict()))
      .toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
  });

  it('loads a state_dict in place and reports every problem at once', () => {
    const net = new Network();
    const weight = net.hidden.weight;
    const dict = net.state_dict();
    const loaded: Record<string, torch.NestedArray> = { ...Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.tolist()])), 'hidden.weight': [[1, 2, 3], [4, 5, 6], [7, 8, 9]] };
    net.load_state_dict(loaded);
    expect(net.hidden.weight).toBe(weight);
    expect(weight.tolist()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const bad: Record<string, torch.NestedArray> = { ...loaded, extra: [1], 'hidden.bias': [1, 2] };
    delete bad['output.bias'];
    expect(() => net.load_state_dict(bad)).toThrow(/unexpected key "extra"/);
    expect(() => net.load_state_dict(bad)).toThrow(/"hidden.bias" has shape \[2\], but the model's is \[3\]/);
    expect(() => net.load_state_dict(bad)).toThrow(/missing key "output.bias"/);
    expect(weight.tolist()).toEqual([[1, 2, 3], [4, 5, 6], [7, 8, 9]]); // nothing applied
  });

  it('train() and eval() reach every child', () => {
    const net = new nn.Sequential(new nn.Linear(2, 2), new nn.Dropout());
    net.eval();
    expect([...net.named_children()].every(([, m]) => !m.training)).toBe(true);
  });
});

describe('optimizers', () => {
  function run(opt: { zero_grad(): void; step(): void }, model: torch.nn.Module, steps: number): void {
    const x = torch.tensor([[0.5, -1], [2, 0.25]]);
    const y = torch.tensor([1, 0], { dtype: 'int64' });
    for (let i = 0; i < steps; i++) {
      opt.zero_grad();
      nn.functional.cross_entropy(model.forward(x), y).backward();
      opt.step();
    }
  }

  function makeOptimizer(seed: number) {
    torch.manual_seed(seed);
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.Tanh(), new nn.Linear(3, 2));
    const opt = new optim.Adam(model.parameters(), { lr: 0.05, amsgrad: true });
    return { model, opt };
  }

  it('save and restore their state: a resumed run equals an uninterrupted one', () => {
    const whole = makeOptimizer(1);
    run(whole.opt, whole.model, 6);

    const first = makeOptimizer(1);
    run(first.opt, first.model, 3);
    const saved = JSON.parse(JSON.stringify({ model: first.model.state_dict(), opt: first.opt.state_dict() }, (_, v) => (v instanceof torch.Tensor ? v.tolist() : v)));
    const resumed = makeOptimizer(99);
    resumed.model.load_state_dict(saved.model);
    resumed.opt.load_state_dict(saved.opt);
    run(resumed.opt, resumed.model, 3);

    const expected = whole.model.state_dict();
    for (const [name, value] of Object.entries(resumed.model.state_dict())) expect(value.tolist(), name).toEqual(expected[name].tolist());
  });

  it('update each parameter as if it were alone, whatever the others did (skipped steps, a changed lr)', () => {
    const values = [[0.5, -1.5, 2], [0.25], [-3, 1]];
    const together = values.map((v) => torch.tensor(v, { requires_grad: true }));
    const alone = values.map((v) => torch.tensor(v, { requires_grad: true }));
    const opt = new optim.Adam(together, { lr: 0.1 });
    const own = alone.map((p) => new optim.Adam([p], { lr: 0.1 }));
    for (let step = 0; step < 6; step++) {
      for (const [i, params] of [together, alone].entries()) {
        params.forEach((p, j) => {
          // Parameter j has no gradient at step j: the step counts drift apart.
          p.grad = step === j ? null : torch.tensor(values[j].map((v) => v * (step + 1) - j));
        });
        const optimizers = i === 0 ? [opt] : own;
        optimizers.forEach((o) => o.step());
        for (const o of optimizers) o.param_groups[0].lr *= 0.5;
      }
    }
    together.forEach((p, j) => expect(p.tolist(), `parameter ${j}`).toEqual(alone[j].tolist()));
  });

  it('leave frozen parameters and locked elements alone, and train the rest', () => {
    torch.manual_seed(3);
    const model = new nn.Sequential(new nn.Linear(2, 2), new nn.ReLU(), new nn.Linear(2, 2));
    const [w0, b0, w2] = model.parameters();
    b0.requires_grad = false;
    w2.locked = Uint8Array.from([1, 0, 0, 1]);
    const before = { w0: w0.tolist(), b0: b0.tolist(), w2: Array.from(w2.toArray()) };
    const opt = new optim.SGD(model.parameters(), { lr: 0.5, momentum: 0.9, weight_decay: 0.1 });
    run(opt, model, 5);
    expect(b0.tolist()).toEqual(before.b0);
    const w2now = Array.from(w2.toArray());
    expect([w2now[0], w2now[3]]).toEqual([before.w2[0], before.w2[3]]);
    expect([w2now[1], w2now[2]]).not.toEqual([before.w2[1], before.w2[2]]);
    expect(w0.tolist()).not.toEqual(before.w0);
  });
});
