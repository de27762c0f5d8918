/**
 * PyTorch export: a project as one runnable Python file. An nn.Module whose attributes are the
 * node names (so its state_dict keys are the app's), the weights as exact float32 values, the
 * data, the loss, the optimizer and the loop of train.ts's Stepper, printing one JSON line per
 * epoch like `backprop train --jsonl`, so the script's numbers can be checked against the app's.
 * No Node APIs here: the engine host in the browser uses this module too.
 */
import type { CompiledGraph } from '../project/compile';
import { formatFloat32, formatNested } from '../project/json';
import type { Project, ProjectNode } from '../project/schema';
import { exportWeights } from './weights';

/** A number as Python reads back the same double (options are float64 in the engine too). */
const num = (x: number): string => String(x);
const floats = (value: unknown): string => formatNested(value, formatFloat32);
const str = (s: string): string => JSON.stringify(s);
const tensor = (value: unknown): string => `torch.tensor(${floats(value)}, dtype=torch.float32)`;
/** A Python tuple of ints: (), (2,), (2, 3). */
const tuple = (xs: readonly number[]): string => `(${xs.join(', ')}${xs.length === 1 ? ',' : ''})`;

/** Keyword arguments, leaving out the options not set (PyTorch's defaults are the engine's). */
function kwargs(options: Record<string, string | undefined>): string {
  return Object.entries(options).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ');
}

const opt = <T>(value: T | undefined, write: (v: T) => string): string | undefined => (value === undefined ? undefined : write(value));
const bool = (b: boolean): string => (b ? 'True' : 'False');

/** The module a node becomes in __init__, or null for nodes computed inline in forward. */
function member(node: ProjectNode): string | null {
  switch (node.type) {
    case 'Linear': return `nn.Linear(${node.params.in_features}, ${node.params.out_features}${node.params.bias === false ? ', bias=False' : ''})`;
    case 'Parameter': return null;
    case 'ReLU': return 'nn.ReLU()';
    case 'LeakyReLU': return `nn.LeakyReLU(${kwargs({ negative_slope: opt(node.params?.negative_slope, num) })})`;
    case 'ELU': return `nn.ELU(${kwargs({ alpha: opt(node.params?.alpha, num) })})`;
    case 'Sigmoid': return 'nn.Sigmoid()';
    case 'Tanh': return 'nn.Tanh()';
    case 'GELU': return `nn.GELU(${kwargs({ approximate: opt(node.params?.approximate, str) })})`;
    case 'Softplus': return `nn.Softplus(${kwargs({ beta: opt(node.params?.beta, num), threshold: opt(node.params?.threshold, num) })})`;
    case 'Softmax': return `nn.Softmax(dim=${node.params.dim})`;
    case 'LogSoftmax': return `nn.LogSoftmax(dim=${node.params.dim})`;
    case 'Dropout': return `nn.Dropout(${kwargs({ p: opt(node.params?.p, num) })})`;
    case 'CrossEntropyLoss': {
      const p = node.params ?? {};
      return `nn.CrossEntropyLoss(${kwargs({ weight: opt(p.weight, tensor), ignore_index: opt(p.ignore_index, num), reduction: opt(p.reduction, str), label_smoothing: opt(p.label_smoothing, num) })})`;
    }
    case 'NLLLoss': {
      const p = node.params ?? {};
      return `nn.NLLLoss(${kwargs({ weight: opt(p.weight, tensor), ignore_index: opt(p.ignore_index, num), reduction: opt(p.reduction, str) })})`;
    }
    case 'MSELoss': return `nn.MSELoss(${kwargs({ reduction: opt(node.params?.reduction, str) })})`;
    case 'L1Loss': return `nn.L1Loss(${kwargs({ reduction: opt(node.params?.reduction, str) })})`;
    case 'HuberLoss': return `nn.HuberLoss(${kwargs({ reduction: opt(node.params?.reduction, str), delta: opt(node.params?.delta, num) })})`;
    case 'BCELoss': return `nn.BCELoss(${kwargs({ weight: opt(node.params?.weight, tensor), reduction: opt(node.params?.reduction, str) })})`;
    case 'BCEWithLogitsLoss': {
      const p = node.params ?? {};
      return `nn.BCEWithLogitsLoss(${kwargs({ weight: opt(p.weight, tensor), reduction: opt(p.reduction, str), pos_weight: opt(p.pos_weight, tensor) })})`;
    }
    default: return null;
  }
}

/** The expression computing a (non-data) node from its inputs' variables `xs` (`rank`: its input's rank). */
function expression(node: ProjectNode, member: string, xs: string[], rank: number): string {
  const [x] = xs;
  switch (node.type) {
    case 'Constant':
    case 'Parameter': return member;
    case 'Add': return xs.join(' + ');
    case 'Multiply': return xs.join(' * ');
    case 'Concat': return `torch.cat([${xs.join(', ')}], dim=${node.params.dim})`;
    case 'Pow': return `${x}.pow(${num(node.params.exponent)})`;
    case 'Exp': return `${x}.exp()`;
    case 'Log': return `${x}.log()`;
    case 'Scale': return `${x}.mul(${num(node.params.factor)})`;
    case 'Sum':
    case 'Mean': {
      const method = node.type === 'Sum' ? 'sum' : 'mean';
      const { dim, keepdim = false } = node.params ?? {};
      if (dim === undefined && !keepdim) return `${x}.${method}()`;
      // Every dim, kept as size 1: PyTorch wants the dims named to keep them.
      const dims = dim ?? Array.from({ length: rank }, (_, i) => i);
      return `${x}.${method}(dim=${typeof dims === 'number' ? dims : tuple(dims)}, keepdim=${bool(keepdim)})`;
    }
    default: return `${member}(${xs.join(', ')})`;
  }
}

function optimizerCall(project: Project): string {
  const { type, ...options } = project.training.optimizer;
  const written: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) {
    written[k] = Array.isArray(v) ? `(${v.map(num).join(', ')})` : typeof v === 'boolean' ? bool(v) : num(v as number);
  }
  return `torch.optim.${type}(params, ${kwargs(written)})`;
}

/** Names the script's functions use, which a node's local variable must not hide. */
const PREAMBLE_NAMES = new Set(['self', 'torch', 'model', 'samples', 'targets']);

/**
 * The Python script for a compiled project: `graph` gives the order, the shapes and the current
 * weights (trained or not); `project` the data and training settings.
 */
export function exportPytorch(project: Project, graph: CompiledGraph): string {
  const { order, sources } = graph;
  const nameOf = (n: ProjectNode): string => n.name ?? n.id;
  // Local variables are the node names, renamed where they would hide a name the script uses.
  const used = new Set(order.map(nameOf));
  const variable = new Map(order.map((n) => {
    if (n.type === 'Input') return [n.id, 'samples'];
    if (n.type === 'Target') return [n.id, 'targets'];
    let v = nameOf(n);
    while (PREAMBLE_NAMES.has(v) || (v !== nameOf(n) && used.has(v))) v += '_';
    return [n.id, v];
  }));

  /** The body computing `wanted` (only the nodes it needs, as the engine runs them), and its arguments. */
  const body = (wanted: string, self: string): { args: string[]; lines: string[] } => {
    const needed = new Set([wanted]);
    for (let i = order.length - 1; i >= 0; i--) if (needed.has(order[i].id)) for (const s of sources.get(order[i].id) ?? []) needed.add(s);
    const lines: string[] = [];
    const args: string[] = [];
    for (const node of order) {
      if (!needed.has(node.id)) continue;
      if (node.type === 'Input' || node.type === 'Target') {
        args.push(variable.get(node.id) as string);
        continue;
      }
      const xs = (sources.get(node.id) ?? []).map((s) => variable.get(s) as string);
      const rank = graph.values.get(sources.get(node.id)?.[0] ?? '')?.shape.length ?? 0;
      lines.push(`${variable.get(node.id)} = ${expression(node, `${self}.${nameOf(node)}`, xs, rank)}`);
    }
    lines.push(`return ${variable.get(wanted)}`);
    return { args: args.sort(), lines };
  };

  const init: string[] = [];
  const locks: string[] = [];
  for (const node of order) {
    const name = nameOf(node);
    const made = member(node);
    if (made) init.push(`self.${name} = ${made}`);
    else if (node.type === 'Parameter') init.push(`self.${name} = nn.Parameter(torch.empty(${tuple(graph.values.get(node.id)?.shape as number[])}))`);
    else if (node.type === 'Constant') init.push(`self.register_buffer(${str(name)}, ${tensor(node.params.value)}, persistent=False)`);
    const locked: [string, number[][] | undefined][] = node.type === 'Linear'
      ? [[`${name}.weight`, node.locked?.weight], [`${name}.bias`, node.locked?.bias]]
      : node.type === 'Parameter' ? [[name, node.locked?.value]] : [];
    for (const [key, cells] of locked) if (cells && cells.length > 0) locks.push(`${str(key)}: ${formatNested(cells, String)}`);
  }
  if (init.length === 0) init.push('pass');

  const forward = body(graph.prediction, 'self');
  const objective = body(graph.objective, 'model');
  const training = project.training;
  const data = project.data;
  const hasSamples = order.some((n) => n.type === 'Input') && data !== undefined;
  const hasTargets = order.some((n) => n.type === 'Target') && data?.targets !== undefined;
  const count = hasSamples ? data.samples.length : hasTargets ? data.targets?.length ?? 1 : 1;
  const classes = hasTargets && !Array.isArray(data?.targets?.[0]);
  const recreate = training.loop === 'recreate_optimizer';
  const indent = (lines: string[], n: number): string => lines.map((l) => `${' '.repeat(n)}${l}`).join('\n');

  const script = [
    `# ${(project.title ?? 'A Backprop Studio project').replace(/\s+/g, ' ')}, exported from Backprop Studio.`,
    '# Trains as the app does and prints one JSON line per epoch: {"epoch", "loss", "outputs"}.',
    'import json',
    'import struct',
    '',
    'import torch',
    'from torch import nn',
    '',
    '',
    'class Model(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    indent(init, 8),
    '',
    `    def forward(self${forward.args.map((a) => `, ${a}`).join('')}):`,
    indent(forward.lines, 8),
    '',
    '',
    '# What training minimises.',
    `def objective(model${objective.args.map((a) => `, ${a}`).join('')}):`,
    indent(objective.lines, 4),
    '',
    '',
    'def float32(x):',
    "    return struct.unpack('f', struct.pack('f', x))[0]",
    '',
    '',
    '# The app\'s weights, exact: each float32 with the fewest digits that read back to it.',
    `STATE = ${exportWeights(graph.module).trimEnd()}`,
    ...(locks.length > 0 ? ['# Cells no optimizer step may change.', `LOCKED = {${locks.join(', ')}}`] : []),
    '',
    ...(hasSamples ? [`samples = ${tensor(data.samples)}`] : []),
    ...(hasTargets ? [`targets = torch.tensor(${classes ? formatNested(data?.targets, String) : floats(data?.targets)}, dtype=torch.${classes ? 'int64' : 'float32'})`] : []),
    `count = ${count}`,
    `batch_size = ${Math.min(training.batch_size ?? count, count)}`,
    `epochs = ${training.epochs}`,
    '',
    '# One seeded stream for the initial weights and then Dropout, as in the app.',
    `torch.manual_seed(${training.seed ?? 0})`,
    'model = Model()',
    'with torch.no_grad():',
    '    for key, value in STATE.items():',
    '        model.get_parameter(key).copy_(torch.tensor(value))',
    'params = [p for p in model.parameters() if p.requires_grad]',
    ...(locks.length > 0 ? ['locks = [(model.get_parameter(k), tuple(zip(*cells))) for k, cells in LOCKED.items()]'] : []),
    `shuffler = torch.Generator().manual_seed(${training.seed ?? 0})`,
    ...(recreate ? [] : [`optimizer = ${optimizerCall(project)}`]),
    '',
    'for epoch in range(1, epochs + 1):',
    `    order = ${training.shuffle ? 'torch.randperm(count, generator=shuffler)' : 'torch.arange(count)'}`,
    '    total = 0.0',
    '    for start in range(0, count, batch_size):',
    '        rows = order[start:start + batch_size]',
    '        model.zero_grad()',
    `        loss = objective(model${objective.args.map((a) => `, ${a}[rows]`).join('')})`,
    '        loss.backward()',
    ...(recreate ? ['        # The seed notebook\'s loop: a fresh optimizer (fresh state) before every step.', `        optimizer = ${optimizerCall(project)}`] : []),
    ...(locks.length > 0 ? ['        kept = [p[cells].clone() for p, cells in locks]'] : []),
    '        optimizer.step()',
    ...(locks.length > 0 ? ['        with torch.no_grad():', '            for (p, cells), values in zip(locks, kept):', '                p[cells] = values'] : []),
    '        total += loss.item() * len(rows)',
    '    model.eval()',
    '    with torch.no_grad():',
    `        outputs = model(${forward.args.join(', ')}).tolist()`,
    '    model.train()',
    '    print(json.dumps({"epoch": epoch, "loss": float32(total / count), "outputs": outputs}))',
    '',
  ];
  return script.join('\n');
}
