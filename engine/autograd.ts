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

/** Numbers the backward passes, so a tensor's `backwardPass` mark says whether this one reached it. */
let passes = 0;

/**
 * Tensors reachable from `root` through grad_fn, inputs before the tensors made from them; each is
 * marked with `pass` (a mark on the tensor, not a Set: a step's graph is small and made anew).
 */
function topologicalOrder(root: Tensor, pass: number): Tensor[] {
  const order: Tensor[] = [];
  root.backwardPass = pass;
  // Iterative depth-first search: deep graphs (long unrolled loops) must not overflow the stack.
  // Parallel stacks: each tensor on the path, and the index of its next input to visit.
  const path: Tensor[] = [root];
  const nextInput: number[] = [0];
  while (path.length > 0) {
    const top = path.length - 1;
    const inputs = path[top].grad_fn?.inputs;
    if (inputs !== undefined && nextInput[top] < inputs.length) {
      const input = inputs[nextInput[top]++];
      if (input.requires_grad && input.backwardPass !== pass) {
        input.backwardPass = pass;
        path.push(input);
        nextInput.push(0);
      }
    } else {
      order.push(path[top]);
      path.pop();
      nextInput.pop();
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
  const order = topologicalOrder(root, ++passes);
  const stored: Tensor[] = [];
  // A first gradient is stored as it is, not copied, unless its values are already the caller's
  // `gradient` or another stored gradient's (one gradient flowing to two inputs, or a view of it):
  // no two `.grad`s share values, and no step copies every parameter's gradient.
  const taken = new Set<unknown>(gradient ? [valuesOf(gradient)] : []);
  openScope();
  const previousGradMode = gradEnabled;
  gradEnabled = false; // no_grad(), without a closure per pass
  try {
    root.pendingGrad = gradient ?? ones_like(root);
    for (let i = order.length - 1; i >= 0; i--) {
      const tensor = order[i];
      const grad = tensor.pendingGrad;
      if (!grad) continue;
      tensor.pendingGrad = null;
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
      const inputs = tensor.grad_fn.inputs;
      const inputGrads = tensor.grad_fn.backward(grad);
      for (let k = 0; k < inputs.length; k++) {
        const input = inputs[k];
        const g = inputGrads[k];
        if (!g || !input.requires_grad) continue;
        const sofar = input.pendingGrad;
        input.pendingGrad = sofar ? sofar.add(g) : g;
      }
    }
  } finally {
    gradEnabled = previousGradMode;
    for (const t of order) t.pendingGrad = null; // after an error, no gradient lingers
    for (const t of stored) holdGrad(t);
    closeScope([]);
  }
}
