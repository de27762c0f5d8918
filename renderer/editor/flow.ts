/**
 * The project as Svelte Flow draws it: a flow node per project node (with its ports, shapes and
 * problems) and a flow edge per edge; and the rules a new connection must pass before it is made.
 */
import { type Edge as FlowEdge, type Node as FlowNode, type NodeHandle, Position } from '@xyflow/svelte';
import { inputPorts, type Problem, type ProjectNode, type Summary } from '../../engine/protocol';
import { type Edge, edgeId, wouldCycle } from '../state/commands';
import type { Project } from '../../engine/protocol';
import { kindOf } from './catalog';

export interface NodeData extends Record<string, unknown> {
  node: ProjectNode;
  ports: string[];
  /** "[N, 3] → [N, 4]"; null before the engine has looked, or where a shape is unknown. */
  shapes: { in: string[]; out: string | null } | null;
  problems: string[];
}

export type StudioNode = FlowNode<NodeData>;

export const nameOf = (node: Pick<ProjectNode, 'id' | 'name'>): string => node.name ?? node.id;

export function formatShape(shape: readonly (number | 'N')[] | null | undefined): string | null {
  return shape ? `[${shape.join(', ')}]` : null;
}

/**
 * From this many nodes on, a graph is large: nodes start with a guessed size and ports, so that
 * Svelte Flow draws only those in view (otherwise it draws every node once, to measure it), and a
 * loaded graph opens at its first nodes rather than fitted whole and unreadably small.
 */
export const LARGE_GRAPH = 150;
const NODE_WIDTH = 170;
const NODE_HEIGHT = 64;
const HANDLE = 9;

/** Where the ports of an unmeasured node will be: inputs spread down the left edge, the output mid-right. */
function guessedHandles(ports: readonly string[]): NodeHandle[] {
  const at = (fraction: number) => NODE_HEIGHT * fraction - HANDLE / 2;
  return [
    ...ports.map((id, i) => ({ id, type: 'target' as const, position: Position.Left, x: -HANDLE / 2, y: at((i + 1) / (ports.length + 1)), width: HANDLE, height: HANDLE })),
    { id: 'out', type: 'source' as const, position: Position.Right, x: NODE_WIDTH - HANDLE / 2, y: at(0.5), width: HANDLE, height: HANDLE },
  ];
}

/** Flow nodes for a project; nodes whose inputs did not change keep their object (and Svelte Flow its measurements). */
export function toFlowNodes(
  project: Project,
  problems: readonly Problem[],
  summary: Summary | null,
  selection: ReadonlySet<string>,
  previous: ReadonlyMap<string, StudioNode>,
): StudioNode[] {
  const large = project.nodes.length >= LARGE_GRAPH;
  const shapeOf = new Map(summary?.nodes.map((n) => [n.id, formatShape(n.shape)]) ?? []);
  const sourceOf = new Map(project.edges.map((e) => [`${e.to.node}\0${e.to.port}`, e.from.node]));
  return project.nodes.map((node) => {
    const ports = inputPorts(node);
    const shapes = summary ? { in: ports.map((p) => shapeOf.get(sourceOf.get(`${node.id}\0${p}`) ?? '') ?? '?'), out: shapeOf.get(node.id) ?? null } : null;
    const messages = problems.filter((p) => p.node === node.id).map((p) => p.message);
    const selected = selection.has(node.id);
    const old = previous.get(node.id);
    if (
      old && old.data.node === node && old.selected === selected &&
      JSON.stringify([old.data.shapes, old.data.problems]) === JSON.stringify([shapes, messages])
    ) {
      return old;
    }
    return {
      id: node.id,
      type: kindOf(node.type),
      position: node.position ?? { x: 0, y: 0 },
      data: { node, ports, shapes, problems: messages },
      selected,
      ...(old?.measured ? { measured: old.measured } : large ? { initialWidth: NODE_WIDTH, initialHeight: NODE_HEIGHT, handles: guessedHandles(ports) } : {}),
    };
  });
}

export function toFlowEdges(project: Project, selection: ReadonlySet<string>): FlowEdge[] {
  return project.edges.map((e) => ({
    id: edgeId(e),
    source: e.from.node,
    target: e.to.node,
    sourceHandle: e.from.port,
    targetHandle: e.to.port,
    selected: selection.has(edgeId(e)),
  }));
}

export interface Connection {
  source: string;
  target: string;
  sourceHandle?: string | null;
  targetHandle?: string | null;
}

export function edgeOf(c: Connection): Edge {
  return { from: { node: c.source, port: c.sourceHandle ?? 'out' }, to: { node: c.target, port: c.targetHandle ?? 'in' } };
}

/**
 * Why a connection cannot be made, in one sentence, or null when it can. The graph's own rules
 * (what shapes fit where) are the engine's: see Canvas, which asks it before keeping an edge.
 */
export function refusal(project: Project, c: Connection): string | null {
  const byId = new Map(project.nodes.map((n) => [n.id, n]));
  const from = byId.get(c.source);
  const to = byId.get(c.target);
  if (!from || !to) return null;
  if (c.source === c.target) return `'${nameOf(from)}' cannot feed itself.`;
  if (wouldCycle(project, c.source, c.target)) {
    return `'${nameOf(from)}' → '${nameOf(to)}' would close a cycle: '${nameOf(to)}' already feeds '${nameOf(from)}', and a network must flow one way.`;
  }
  return null;
}
