import { autoDevice, type Device, moveInPlace, writeInto } from '../device';
import type { NestedArray, Tensor } from '../tensor';
import { tensor } from '../ops/index';
import { formatShape } from '../shape';
import { isParameter } from './parameter';

/**
 * nn.Module: parameters and child modules are found among the object's own properties, in the
 * order they were first assigned, as PyTorch's __setattr__ records them; so state_dict names and
 * order match PyTorch's (`hidden.weight`, `hidden.bias`, `0.weight`, …).
 */
export abstract class Module {
  training = true;

  abstract forward(...inputs: Tensor[]): Tensor;

  *named_children(): Generator<[string, Module]> {
    for (const [name, value] of Object.entries(this)) if (value instanceof Module) yield [name, value];
  }

  named_parameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    const visit = (module: Module, path: string): void => {
      for (const [name, value] of Object.entries(module)) {
        if (isParameter(value) && !seen.has(value)) {
          seen.add(value);
          out.push([path + name, value]);
        } else if (value instanceof Module) {
          visit(value, `${path}${name}.`);
        }
      }
    };
    visit(this, prefix ? `${prefix}.` : '');
    return out;
  }

  parameters(): Tensor[] {
    return this.named_parameters().map(([, p]) => p);
  }

  state_dict(): Record<string, Tensor> {
    return Object.fromEntries(this.named_parameters().map(([name, p]) => [name, p.detach()]));
  }

  /**
   * Copies values into the parameters in place (optimizers keep their references). Every missing
   * or unexpected name and every shape mismatch is reported at once; nothing is changed then.
   */
  load_state_dict(dict: Record<string, Tensor | NestedArray>): void {
    const own = new Map(this.named_parameters());
    const problems: string[] = [];
    const updates: [Tensor, Tensor][] = [];
    for (const [name, value] of Object.entries(dict)) {
      const target = own.get(name);
      if (!target) {
        problems.push(`unexpected key "${name}"`);
        continue;
      }
      const source = Array.isArray(value) || typeof value === 'number' ? tensor(value, { dtype: target.dtype }) : value;
      if (source.shape.join() !== target.shape.join()) {
        problems.push(`"${name}" has shape ${formatShape(source.shape)}, but the model's is ${formatShape(target.shape)}`);
      } else {
        updates.push([target, source]);
      }
    }
    for (const name of own.keys()) if (!(name in dict)) problems.push(`missing key "${name}"`);
    if (problems.length > 0) throw new Error(`load_state_dict: ${problems.join('; ')}`);
    for (const [target, source] of updates) writeInto(target, source);
  }

  /**
   * Moves the parameters (and their gradients) to `device` in place, as PyTorch's module.to():
   * optimizers made before keep working. 'auto' picks WebGPU or the CPU by the model's size (see
   * engine/README.md, "Devices"). Moving to 'cpu' from the GPU needs the values read first
   * (`await torch.webgpu.fetch(model)`).
   */
  to(device: Device | 'auto'): this {
    const params = this.parameters();
    const target = device === 'auto' ? autoDevice(params.reduce((n, p) => n + p.numel(), 0)) : device;
    for (const p of params) moveInPlace(p, target);
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    for (const [, child] of this.named_children()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zero_grad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}
