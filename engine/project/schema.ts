/**
 * The project file, format version 1, as a valibot schema: the single definition from which
 * loading validates, the TypeScript types come, and assets/schema/project.schema.json is
 * generated. What every field means: docs/project-format.md.
 *
 * The schema checks structure and ranges only; what depends on several fields at once (edges
 * naming real nodes, shapes, names being unique) is the compiler's job, which reports it per node.
 */
import * as v from 'valibot';

export const FORMAT = 'backprop-studio-project';

/** Stated limits: a file beyond them is refused with a message, never half-loaded. */
export const LIMITS = {
  fileBytes: 64 * 1024 * 1024,
  nodes: 1000,
  edges: 5000,
  /** elements in one tensor (a weight matrix, a Parameter, a Constant) */
  tensorElements: 4_000_000,
  features: 100_000,
  rows: 1_000_000,
  epochs: 1_000_000,
  /** nesting of the JSON itself: a project needs about 12 */
  jsonDepth: 32,
  tensorRank: 6,
  fanIn: 16,
} as const;

const described = <S extends v.GenericSchema>(schema: S, text: string) => v.pipe(schema, v.description(text));

const finite = v.pipe(v.number(), v.finite());
const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));
const count = (max: number) => int(1, max);
const dimIndex = int(-LIMITS.tensorRank, LIMITS.tensorRank - 1);
const shortText = (max: number) => v.pipe(v.string(), v.minLength(1), v.maxLength(max));

export type NestedNumbers = number | NestedNumbers[];
/** A tensor as nested lists of numbers, as PyTorch's tolist() gives it. */
export const NestedNumbers: v.GenericSchema<NestedNumbers> = v.union(
  [finite, v.array(v.lazy(() => NestedNumbers))],
  'a number or nested lists of numbers',
);
const vector = v.array(finite);
const matrix = v.array(vector);

/** Locked cells: each a full index into the tensor, e.g. [0, 2] for row 0, column 2. */
const lockedCells = v.array(v.array(int(0, LIMITS.tensorElements)));

const reduction = v.optional(v.picklist(['mean', 'sum', 'none']));

const position = v.strictObject({ x: finite, y: finite });

/** The fields every node has, and its type-specific ones. */
function node<T extends string, E extends v.ObjectEntries>(type: T, entries: E) {
  return v.strictObject({
    id: described(shortText(100), 'stable identifier; edges refer to it'),
    type: v.literal(type),
    name: v.optional(described(shortText(100), 'the name shown and used in state_dict keys; defaults to the id')),
    position: v.optional(position),
    ...entries,
  });
}

const noParams = { params: v.optional(v.strictObject({})) };
const fanIn = v.optional(int(2, LIMITS.fanIn));

export const NodeSchema = v.variant('type', [
  node('Input', { params: v.strictObject({ features: count(LIMITS.features) }) }),
  node('Target', noParams),
  node('Linear', {
    params: v.strictObject({
      in_features: count(LIMITS.features),
      out_features: count(LIMITS.features),
      bias: v.optional(v.boolean()),
    }),
    tensors: v.optional(v.strictObject({ weight: v.optional(matrix), bias: v.optional(vector) })),
    locked: v.optional(v.strictObject({ weight: v.optional(lockedCells), bias: v.optional(lockedCells) })),
  }),
  node('ReLU', noParams),
  node('LeakyReLU', { params: v.optional(v.strictObject({ negative_slope: v.optional(finite) })) }),
  node('ELU', { params: v.optional(v.strictObject({ alpha: v.optional(finite) })) }),
  node('Sigmoid', noParams),
  node('Tanh', noParams),
  node('GELU', { params: v.optional(v.strictObject({ approximate: v.optional(v.picklist(['none', 'tanh'])) })) }),
  node('Softplus', { params: v.optional(v.strictObject({ beta: v.optional(finite), threshold: v.optional(finite) })) }),
  node('Softmax', { params: v.strictObject({ dim: dimIndex }) }),
  node('LogSoftmax', { params: v.strictObject({ dim: dimIndex }) }),
  node('Dropout', { params: v.optional(v.strictObject({ p: v.optional(v.pipe(finite, v.minValue(0), v.maxValue(1))) })) }),
  node('Add', { params: v.optional(v.strictObject({ inputs: fanIn })) }),
  node('Multiply', { params: v.optional(v.strictObject({ inputs: fanIn })) }),
  node('Concat', { params: v.strictObject({ dim: dimIndex, inputs: fanIn }) }),
  node('Constant', { params: v.strictObject({ value: NestedNumbers }) }),
  node('Parameter', {
    tensors: v.strictObject({ value: NestedNumbers }),
    locked: v.optional(v.strictObject({ value: v.optional(lockedCells) })),
  }),
  node('Pow', { params: v.strictObject({ exponent: finite }) }),
  node('Exp', noParams),
  node('Log', noParams),
  node('Sum', { params: v.optional(v.strictObject({ dim: v.optional(v.union([dimIndex, v.array(dimIndex)])), keepdim: v.optional(v.boolean()) })) }),
  node('Mean', { params: v.optional(v.strictObject({ dim: v.optional(v.union([dimIndex, v.array(dimIndex)])), keepdim: v.optional(v.boolean()) })) }),
  node('Scale', { params: v.strictObject({ factor: finite }) }),
  node('CrossEntropyLoss', {
    params: v.optional(v.strictObject({
      weight: v.optional(vector),
      ignore_index: v.optional(int(-1_000_000, 1_000_000)),
      reduction,
      label_smoothing: v.optional(v.pipe(finite, v.minValue(0), v.maxValue(1))),
    })),
  }),
  node('NLLLoss', {
    params: v.optional(v.strictObject({ weight: v.optional(vector), ignore_index: v.optional(int(-1_000_000, 1_000_000)), reduction })),
  }),
  node('MSELoss', { params: v.optional(v.strictObject({ reduction })) }),
  node('L1Loss', { params: v.optional(v.strictObject({ reduction })) }),
  node('HuberLoss', { params: v.optional(v.strictObject({ reduction, delta: v.optional(v.pipe(finite, v.gtValue(0))) })) }),
  node('BCELoss', { params: v.optional(v.strictObject({ weight: v.optional(vector), reduction })) }),
  node('BCEWithLogitsLoss', { params: v.optional(v.strictObject({ weight: v.optional(vector), pos_weight: v.optional(vector), reduction })) }),
], 'an unknown node type');

export type ProjectNode = v.InferOutput<typeof NodeSchema>;
export type NodeType = ProjectNode['type'];
export type NodeOf<T extends NodeType> = Extract<ProjectNode, { type: T }>;
export const NODE_TYPES: readonly NodeType[] = NodeSchema.options.map((o) => o.entries.type.literal);

const endpoint = v.strictObject({ node: shortText(100), port: shortText(20) });
const EdgeSchema = v.strictObject({ from: endpoint, to: endpoint });

const rows = <S extends v.GenericSchema>(item: S) => v.pipe(v.array(item), v.maxLength(LIMITS.rows));

const DataSchema = v.strictObject({
  samples: described(rows(vector), 'one row of input values per sample'),
  targets: v.optional(described(
    v.union([rows(finite), rows(vector)]),
    'a class index per sample (a flat list), or a row of target values per sample',
  )),
  class_names: v.optional(v.array(shortText(100))),
});
export type ProjectData = v.InferOutput<typeof DataSchema>;

const lr = described(v.pipe(finite, v.minValue(0)), 'learning rate');
const decay = v.optional(v.pipe(finite, v.minValue(0)));
const flag = v.optional(v.boolean());
const adamOptions = {
  lr,
  betas: v.optional(v.strictTuple([v.pipe(finite, v.minValue(0), v.ltValue(1)), v.pipe(finite, v.minValue(0), v.ltValue(1))])),
  eps: decay,
  weight_decay: decay,
  amsgrad: flag,
  maximize: flag,
};

/** Every option of each optimizer, named as in torch.optim; an omitted option takes PyTorch's default. */
const OptimizerSchema = v.variant('type', [
  v.strictObject({ type: v.literal('SGD'), lr, momentum: decay, dampening: v.optional(finite), nesterov: flag, weight_decay: decay, maximize: flag }),
  v.strictObject({ type: v.literal('Adam'), ...adamOptions }),
  v.strictObject({ type: v.literal('AdamW'), ...adamOptions }),
  v.strictObject({ type: v.literal('RMSprop'), lr, alpha: decay, eps: decay, weight_decay: decay, momentum: decay, centered: flag, maximize: flag }),
  v.strictObject({ type: v.literal('Adagrad'), lr, lr_decay: decay, weight_decay: decay, initial_accumulator_value: decay, eps: decay, maximize: flag }),
], 'an unknown optimizer');
export type OptimizerSettings = v.InferOutput<typeof OptimizerSchema>;

const TrainingSchema = v.strictObject({
  epochs: int(0, LIMITS.epochs),
  batch_size: v.optional(described(count(LIMITS.rows), 'samples per optimizer step; omitted: all samples at once')),
  shuffle: v.optional(v.boolean()),
  seed: v.optional(int(0, Number.MAX_SAFE_INTEGER)),
  backend: v.optional(v.picklist(['cpu', 'webgpu', 'auto'])),
  loop: v.optional(described(
    v.picklist(['standard', 'recreate_optimizer']),
    'standard: one optimizer for the whole run; recreate_optimizer: a new optimizer before every step, as the seed notebook does',
  )),
  optimizer: OptimizerSchema,
});

const ExpectedSchema = v.strictObject({
  node: shortText(100),
  quantity: v.picklist(['output', 'gradient', 'tensor']),
  tensor: v.optional(shortText(20)),
  epoch: int(0, LIMITS.epochs),
  index: v.optional(described(v.array(int(0, LIMITS.tensorElements)), 'one element: its full index; omitted: the whole tensor')),
  sample: v.optional(described(int(0, LIMITS.rows - 1), 'for outputs and gradients: which sample; omitted: all samples')),
  values: NestedNumbers,
  tolerance: v.optional(described(v.pipe(finite, v.minValue(0)), 'largest absolute difference that still matches; omitted: the view setting')),
  note: v.optional(v.pipe(v.string(), v.maxLength(1000))),
});

const EpochRecordSchema = v.strictObject({ epoch: count(LIMITS.epochs), loss: finite, outputs: NestedNumbers });
export type EpochRecord = v.InferOutput<typeof EpochRecordSchema>;

export const ProjectSchema = v.strictObject({
  format: v.literal(FORMAT),
  version: v.literal(1),
  title: v.optional(v.pipe(v.string(), v.maxLength(200))),
  description: v.optional(v.pipe(v.string(), v.maxLength(10_000))),
  nodes: v.pipe(v.array(NodeSchema), v.maxLength(LIMITS.nodes)),
  edges: v.pipe(v.array(EdgeSchema), v.maxLength(LIMITS.edges)),
  data: v.optional(DataSchema),
  training: TrainingSchema,
  expected: v.optional(v.array(ExpectedSchema)),
  history: v.optional(v.array(EpochRecordSchema)),
});
export type Project = v.InferOutput<typeof ProjectSchema>;

/** The format version this code writes; migrations bring every earlier one up to it. */
export const CURRENT_VERSION = ProjectSchema.entries.version.literal;
