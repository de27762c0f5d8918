/**
 * The palette: every node type, grouped as the palette shows them, with a one-line description
 * and the fields a new node starts with. The types, ports and rules themselves are the engine's
 * (engine/protocol.ts); this is only what the editor offers.
 */
import type { NodeType, ProjectNode } from '../../engine/protocol';

export type Kind = 'data' | 'layer' | 'activation' | 'combine' | 'math' | 'loss';

export interface PaletteEntry {
  type: NodeType;
  kind: Kind;
  /** One line for the palette's tooltip. */
  hint: string;
  /** The node a click or drop creates, less id and position. */
  create(): Omit<ProjectNode, 'id'>;
}

export const KIND_LABELS: Record<Kind, string> = {
  data: 'Data and parameters',
  layer: 'Layers',
  activation: 'Activations',
  combine: 'Combine',
  math: 'Math',
  loss: 'Losses',
};

const entry = (type: NodeType, kind: Kind, hint: string, rest: object = {}): PaletteEntry => ({
  type,
  kind,
  hint,
  create: () => structuredClone({ type, ...rest }) as Omit<ProjectNode, 'id'>,
});

// Sizes default to the seed network's 3: the smallest network the tutorial draws.
export const PALETTE: readonly PaletteEntry[] = [
  entry('Input', 'data', 'The samples, one row per sample', { params: { features: 3 } }),
  entry('Target', 'data', 'The targets: class indices or rows of values'),
  entry('Constant', 'data', 'A fixed tensor, never trained', { params: { value: [0] } }),
  entry('Parameter', 'data', 'A trained tensor of its own', { tensors: { value: [0] } }),
  entry('Linear', 'layer', 'y = x·Wᵀ + b', { params: { in_features: 3, out_features: 3 } }),
  entry('Dropout', 'layer', 'Zeroes inputs at random while training', { params: { p: 0.5 } }),
  entry('ReLU', 'activation', 'max(0, x)'),
  entry('LeakyReLU', 'activation', 'x, or slope·x below 0', { params: { negative_slope: 0.01 } }),
  entry('ELU', 'activation', 'x, or α(eˣ − 1) below 0', { params: { alpha: 1 } }),
  entry('Sigmoid', 'activation', '1 / (1 + e⁻ˣ)'),
  entry('Tanh', 'activation', 'tanh(x)'),
  entry('GELU', 'activation', 'x·Φ(x)', { params: { approximate: 'none' } }),
  entry('Softplus', 'activation', 'log(1 + e^(βx)) / β', { params: { beta: 1, threshold: 20 } }),
  entry('Softmax', 'activation', 'eˣ / Σ eˣ along a dim', { params: { dim: 1 } }),
  entry('LogSoftmax', 'activation', 'log of Softmax', { params: { dim: 1 } }),
  entry('Add', 'combine', 'Sum of its inputs, broadcast', { params: { inputs: 2 } }),
  entry('Multiply', 'combine', 'Product of its inputs, broadcast', { params: { inputs: 2 } }),
  entry('Concat', 'combine', 'Joins its inputs along a dim', { params: { dim: 1, inputs: 2 } }),
  entry('Pow', 'math', 'xᵖ', { params: { exponent: 2 } }),
  entry('Exp', 'math', 'eˣ'),
  entry('Log', 'math', 'ln x'),
  entry('Scale', 'math', 'factor · x', { params: { factor: 1 } }),
  entry('Sum', 'math', 'Sum over dims'),
  entry('Mean', 'math', 'Mean over dims'),
  entry('CrossEntropyLoss', 'loss', 'Classes: log-softmax then NLL'),
  entry('NLLLoss', 'loss', 'Negative log-likelihood of log-probabilities'),
  entry('MSELoss', 'loss', 'Mean squared error'),
  entry('L1Loss', 'loss', 'Mean absolute error'),
  entry('HuberLoss', 'loss', 'Squared near 0, absolute further out'),
  entry('BCELoss', 'loss', 'Binary cross-entropy of probabilities'),
  entry('BCEWithLogitsLoss', 'loss', 'Binary cross-entropy of logits'),
];

export const PALETTE_BY_TYPE: ReadonlyMap<NodeType, PaletteEntry> = new Map(PALETTE.map((e) => [e.type, e]));

export function kindOf(type: NodeType): Kind {
  return PALETTE_BY_TYPE.get(type)?.kind ?? 'math';
}

/** The drag-and-drop type a palette entry carries onto the canvas. */
export const DRAG_TYPE = 'application/x-backprop-node';
