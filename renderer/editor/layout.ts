/**
 * Automatic left-to-right layout with dagre: data flows from left to right, rank by rank, as
 * papers draw networks. Positions are the nodes' top-left corners, as Svelte Flow places them.
 */
import { Graph, layout } from '@dagrejs/dagre';
import type { Project } from '../../engine/protocol';
import type { Position } from '../state/commands';

export type Size = { width: number; height: number };

/** Where each node goes; `sizes` are the drawn sizes (a default for nodes not drawn yet). */
export function autoLayout(project: Project, sizes: ReadonlyMap<string, Size>): Map<string, Position> {
  const g = new Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 30, ranksep: 60, marginx: 0, marginy: 0 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of project.nodes) {
    const { width, height } = sizes.get(node.id) ?? { width: 160, height: 60 };
    g.setNode(node.id, { width, height });
  }
  for (const e of project.edges) g.setEdge(e.from.node, e.to.node);
  layout(g);
  const positions = new Map<string, Position>();
  for (const node of project.nodes) {
    const { x, y, width, height } = g.node(node.id);
    positions.set(node.id, { x: Math.round(x - width / 2), y: Math.round(y - height / 2) });
  }
  return positions;
}
