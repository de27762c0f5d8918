import { closeScope, holdGrad, openScope } from './device';
import { ones_like } from './ops/creation';
import type { Tensor } from './tensor';

/** The backward half of an op: given dL/d(output), the gradients of its inputs (null: none). */
export interface GradFn {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  readonly backward: (grad: Tensor) => readonly (Tensor | null)[];
}

let gradEnabled = true;

export function is_grad_enabled(): boolean {
  return gradEnabled;
}

export function set_grad_enabled(enabled: boolean): void {
  gradEnabled = enabled;
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

export const no_grad = <T>(fn: () => T): T => withGradMode(false, fn);
export const enable_grad = <T>(fn: () => T): T => withGradMode(true, fn);

/** Attaches history to an op's output when grad mode is on and any input requires grad. */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly Tensor[],
  backward: (grad: Tensor) => readonly (Tensor | null)[],
): Tensor {
  if (!gradEnabled) return out;
  for (const input of inputs) {
    if (input.requires_grad) {
      out.requires_grad = true;
      out.grad_fn = { name, inputs, backward };
      break;
    }
  }
  return out;
}

/** Tensors reachable from `root` through grad_fn, inputs before the tensors made from them. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>([root]);
  // Iterative depth-first search: deep graphs (long unrolled loops) must not overflow the stack.
  const stack: { tensor: Tensor; next: number }[] = [{ tensor: root, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top.tensor.grad_fn?.inputs ?? [];
    if (top.next < inputs.length) {
      const input = inputs[top.next++];
      if (input.requires_grad && !visited.has(input)) {
        visited.add(input);
        stack.push({ tensor: input, next: 0 });
      }
    } else {
      order.push(top.tensor);
      stack.pop();
    }
  }
  return order;
}

/** What a tensor's values are: the storage its views share (a device's, or the host array). */
function valuesOf(t: Tensor): unknown {
  return t.storage ?? t.data;
}

/**
 * Reverse-mode autograd: walk the graph from the output back, each op's backward closure turning
 * the gradient of its output into gradients of its inputs; gradients of a tensor used more than
 * once are summed, and leaves (and tensors that retain_grad) accumulate into `.grad` with +=.
 * The pass's intermediate gradients on a GPU go back to its memory pool as soon as it ends.
 */
export function backward(root: Tensor, gradient: Tensor | null): void {
  const order = topologicalOrder(root);
  const stored: Tensor[] = [];
  // A first gradient is stored as it is, not copied, unless its values are already the caller's
  // `gradient` or another stored gradient's (one gradient flowing to two inputs, or a view of it):
  // no two `.grad`s share values, and no step copies every parameter's gradient.
  const taken = new Set<unknown>(gradient ? [valuesOf(gradient)] : []);
  openScope();
  try {
    no_grad(() => {
      const grads = new Map<Tensor, Tensor>([[root, gradient ?? ones_like(root)]]);
      for (let i = order.length - 1; i >= 0; i--) {
        const tensor = order[i];
        const grad = grads.get(tensor);
        if (!grad) continue;
        grads.delete(tensor);
        if (tensor.grad_fn === null || tensor.retains_grad) {
          if (tensor.grad !== null) {
            tensor.grad = tensor.grad.add(grad);
          } else {
            tensor.grad = taken.has(valuesOf(grad)) ? grad.clone() : grad;
            taken.add(valuesOf(grad));
          }
          stored.push(tensor);
        }
        if (tensor.grad_fn === null) continue;
        const inputGrads = tensor.grad_fn.backward(grad);
        tensor.grad_fn.inputs.forEach((input, k) => {
          const g = inputGrads[k];
          if (!g || !input.requires_grad) return;
          const sofar = grads.get(input);
          grads.set(input, sofar ? sofar.add(g) : g);
        });
      }
    });
  } finally {
    for (const t of stored) holdGrad(t);
    closeScope([]);
  }
}
