import { record } from '../autograd';
import { formatShape, normalizeDim } from '../shape';
import type { Tensor } from '../tensor';

export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat() needs at least one tensor');
  const first = tensors[0];
  const d = normalizeDim(dim, first.dim());
  for (const t of tensors) {
    if (t.dim() !== first.dim() || t.shape.some((s, i) => i !== d && s !== first.shape[i])) {
      throw new Error(`cat(): shapes ${formatShape(first.shape)} and ${formatShape(t.shape)} differ outside dimension ${d}`);
    }
  }
  const out = (tensors.find((t) => t.storage !== null) ?? first).backend.cat(tensors, d);
  return record(out, 'CatBackward0', tensors, (g) => {
    let start = 0;
    return tensors.map((t) => {
      const part = g.backend.slice(g, d, start, start + t.shape[d]);
      start += t.shape[d];
      return part;
    });
  });
}

/** torch.gather along `dim`; index is int64 and shaped like x except along dim. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim(dim, x.dim());
  return record(x.backend.gather(x, d, index), 'GatherBackward0', [x], (g) => [g.backend.scatterAdd(x.shape, d, index, g)]);
}
