import { Tensor } from '../tensor';

const parameters = new WeakSet<Tensor>();

/** nn.Parameter: a leaf tensor that requires grad and that modules list in parameters(). */
export function Parameter(data: Tensor, requires_grad = true): Tensor {
  const p = Tensor.sharing(data, data.shape);
  if (p.storage) p.storage.persistent = true;
  p.requires_grad = requires_grad;
  parameters.add(p);
  return p;
}

export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && parameters.has(value);
}
