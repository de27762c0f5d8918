/**
 * The optimizers' options as the training controls show them: each with PyTorch's default (what an
 * omitted option means, docs/project-format.md), so a field left empty says what it stands for.
 */
import type { Project } from '../../engine/protocol';

export type OptimizerSettings = Project['training']['optimizer'];
export type OptimizerType = OptimizerSettings['type'];

export type OptionKind = 'number' | 'boolean' | 'betas';
export interface OptionSpec {
  key: string;
  kind: OptionKind;
  default: number | boolean | [number, number];
  /** What the option does, for the field's tooltip. */
  help: string;
}

const maximize: OptionSpec = { key: 'maximize', kind: 'boolean', default: false, help: 'climb the objective instead of descending it' };
const weightDecay = (d: number): OptionSpec => ({ key: 'weight_decay', kind: 'number', default: d, help: 'L2 penalty λ added to the gradient (decoupled in AdamW)' });
const adam: OptionSpec[] = [
  { key: 'betas', kind: 'betas', default: [0.9, 0.999], help: 'β₁, β₂: decay of the running averages m and v' },
  { key: 'eps', kind: 'number', default: 1e-8, help: 'ε added to √v̂ so the step never divides by zero' },
  weightDecay(0),
  { key: 'amsgrad', kind: 'boolean', default: false, help: 'use the largest v̂ so far (AMSGrad)' },
  maximize,
];

/** Every option of each optimizer besides lr, in PyTorch's order, with PyTorch's defaults. */
export const OPTIMIZER_OPTIONS: Record<OptimizerType, OptionSpec[]> = {
  SGD: [
    { key: 'momentum', kind: 'number', default: 0, help: 'μ: how much of the previous step carries over' },
    { key: 'dampening', kind: 'number', default: 0, help: 'τ: how much of the new gradient is held back from the momentum' },
    { key: 'nesterov', kind: 'boolean', default: false, help: 'Nesterov momentum: step along g + μ·b' },
    weightDecay(0),
    maximize,
  ],
  Adam: adam,
  AdamW: adam.map((o) => (o.key === 'weight_decay' ? weightDecay(0.01) : o)),
  RMSprop: [
    { key: 'alpha', kind: 'number', default: 0.99, help: 'α: decay of the running average of g²' },
    { key: 'eps', kind: 'number', default: 1e-8, help: 'ε added to the root so the step never divides by zero' },
    weightDecay(0),
    { key: 'momentum', kind: 'number', default: 0, help: 'μ: momentum on the scaled step' },
    { key: 'centered', kind: 'boolean', default: false, help: 'divide by the variance of g rather than its mean square' },
    maximize,
  ],
  Adagrad: [
    { key: 'lr_decay', kind: 'number', default: 0, help: 'the rate falls as lr / (1 + (t − 1)·lr_decay)' },
    weightDecay(0),
    { key: 'initial_accumulator_value', kind: 'number', default: 0, help: 'the sum of g² starts here' },
    { key: 'eps', kind: 'number', default: 1e-10, help: 'ε added to the root so the step never divides by zero' },
    maximize,
  ],
};

export const OPTIMIZER_TYPES = Object.keys(OPTIMIZER_OPTIONS) as OptimizerType[];

/** An option's value, or PyTorch's default where the project omits it. */
export function optionOf<T extends number | boolean | [number, number]>(settings: OptimizerSettings, key: string): T {
  const given = (settings as Record<string, unknown>)[key];
  if (given !== undefined) return given as T;
  return OPTIMIZER_OPTIONS[settings.type].find((o) => o.key === key)?.default as T;
}

/** Another optimizer type: keeps lr and the options both share, drops the rest. */
export function switchOptimizer(settings: OptimizerSettings, type: OptimizerType): OptimizerSettings {
  const next: Record<string, unknown> = { type, lr: settings.lr };
  for (const option of OPTIMIZER_OPTIONS[type]) {
    const value = (settings as Record<string, unknown>)[option.key];
    if (value !== undefined) next[option.key] = value;
  }
  return next as OptimizerSettings;
}

/** Sets one option; `undefined` removes it, so it takes PyTorch's default again. */
export function setOption(settings: OptimizerSettings, key: string, value: number | boolean | [number, number] | undefined): OptimizerSettings {
  const next: Record<string, unknown> = { ...settings };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next as OptimizerSettings;
}
