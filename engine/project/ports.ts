/**
 * The ports of each node type: which inputs it takes and which of them take class indices. Free
 * of the engine's tensors, so the editor (through engine/protocol.ts) draws the same ports the
 * compiler checks.
 */
import type { NodeType, ProjectNode } from './schema';

const LOSS_TYPES: ReadonlySet<NodeType> = new Set<NodeType>([
  'CrossEntropyLoss', 'NLLLoss', 'MSELoss', 'L1Loss', 'HuberLoss', 'BCELoss', 'BCEWithLogitsLoss',
]);

export function isLoss(node: Pick<ProjectNode, 'type'>): boolean {
  return LOSS_TYPES.has(node.type);
}

/** The input ports of a node, in the order its computation takes them. Every node has one output, 'out'. */
export function inputPorts(node: ProjectNode): string[] {
  switch (node.type) {
    case 'Input':
    case 'Target':
    case 'Constant':
    case 'Parameter':
      return [];
    case 'Add':
    case 'Multiply':
    case 'Concat':
      return Array.from({ length: node.params?.inputs ?? 2 }, (_, i) => `in${i + 1}`);
    default:
      return isLoss(node) ? ['input', 'target'] : ['in'];
  }
}

/** Whether a port takes class indices (int64): only the target of the class-index losses. */
export function takesClasses(node: Pick<ProjectNode, 'type'>, port: string): boolean {
  return port === 'target' && (node.type === 'CrossEntropyLoss' || node.type === 'NLLLoss');
}
