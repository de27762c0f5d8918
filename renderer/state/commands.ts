/**
 * Every edit the editor makes, as a pure function from one project to the next. Untouched nodes,
 * edges and rows are shared between versions, so the undo history keeps whole projects cheaply.
 */
import { loadProject, type NestedNumbers, type NodeType, type Project, type ProjectData, type ProjectNode, ProjectError } from '../../engine/protocol';

export type Edge = Project['edges'][number];
export type Position = { x: number; y: number };

export function emptyProject(): Project {
  return {
    format: 'backprop-studio-project',
    version: 1,
    nodes: [],
    edges: [],
    training: { epochs: 50, seed: 0, optimizer: { type: 'SGD', lr: 0.1 } },
  };
}

/** Edges are identified by their target port: each input port takes one edge. */
export function edgeId(edge: Edge): string {
  return `${edge.from.node}→${edge.to.node}:${edge.to.port}`;
}

/** A fresh id (and so state_dict name) for a node of `type`: its type in lower case and a number. */
export function freshId(type: NodeType, taken: ReadonlySet<string>): string {
  const base = type.endsWith('Loss') ? 'loss' : type.toLowerCase();
  for (let n = 1; ; n++) {
    const id = `${base}${n}`;
    if (!taken.has(id)) return id;
  }
}

function takenNames(project: Project): Set<string> {
  return new Set(project.nodes.flatMap((n) => [n.id, n.name ?? n.id]));
}

function mapNode(project: Project, id: string, change: (node: ProjectNode) => ProjectNode): Project {
  return { ...project, nodes: project.nodes.map((n) => (n.id === id ? change(n) : n)) };
}

export function addNode(project: Project, node: Omit<ProjectNode, 'id'>, position: Position): { project: Project; id: string } {
  const id = freshId(node.type, takenNames(project));
  const added = { ...node, id, position: snapped(position) } as ProjectNode;
  return { project: { ...project, nodes: [...project.nodes, added] }, id };
}

/** Removes nodes and every edge that touches them. */
export function removeNodes(project: Project, ids: ReadonlySet<string>): Project {
  return {
    ...project,
    nodes: project.nodes.filter((n) => !ids.has(n.id)),
    edges: project.edges.filter((e) => !ids.has(e.from.node) && !ids.has(e.to.node)),
    expected: project.expected?.filter((e) => !ids.has(e.node)),
  };
}

export function removeEdges(project: Project, ids: ReadonlySet<string>): Project {
  return { ...project, edges: project.edges.filter((e) => !ids.has(edgeId(e))) };
}

/** Adds an edge; one that already ends at the same port is replaced, as a port takes one. */
export function connect(project: Project, edge: Edge): Project {
  const kept = project.edges.filter((e) => !(e.to.node === edge.to.node && e.to.port === edge.to.port));
  return { ...project, edges: [...kept, edge] };
}

const snap = 15;
const snapped = (p: Position): Position => ({ x: Math.round(p.x / snap) * snap, y: Math.round(p.y / snap) * snap });

export function moveNodes(project: Project, positions: ReadonlyMap<string, Position>): Project {
  return { ...project, nodes: project.nodes.map((n) => (positions.has(n.id) ? { ...n, position: positions.get(n.id) as Position } : n)) };
}

/** Renames a node (its state_dict name); an empty name falls back to the id. */
export function renameNode(project: Project, id: string, name: string): Project {
  return mapNode(project, id, (n) => {
    const { name: _old, ...rest } = n;
    return (name === '' || name === n.id ? rest : { ...rest, name }) as ProjectNode;
  });
}

/**
 * Sets a node's params. A Linear layer whose sizes change keeps the weights that still fit and
 * drops the rest (the layer then draws them), so the file never holds a weight of the wrong shape.
 */
export function setParams(project: Project, id: string, params: Record<string, unknown>): Project {
  return mapNode(project, id, (n) => {
    const next = { ...n, params } as ProjectNode;
    if (next.type !== 'Linear' || n.type !== 'Linear') return next;
    const { in_features: inF, out_features: outF, bias = true } = next.params;
    const { weight, bias: b } = n.tensors ?? {};
    const tensors = {
      ...(weight && weight.length === outF && weight[0]?.length === inF ? { weight } : {}),
      ...(b && bias && b.length === outF ? { bias: b } : {}),
    };
    const weightLocks = n.locked?.weight?.filter(([i, j]) => i < outF && j < inF) ?? [];
    const biasLocks = bias ? (n.locked?.bias?.filter(([i]) => i < outF) ?? []) : [];
    const locked = { ...(weightLocks.length ? { weight: weightLocks } : {}), ...(biasLocks.length ? { bias: biasLocks } : {}) };
    const { tensors: _t, locked: _l, ...rest } = next;
    return {
      ...rest,
      ...(Object.keys(tensors).length ? { tensors } : {}),
      ...(Object.keys(locked).length ? { locked } : {}),
    } as ProjectNode;
  });
}

/** The tensors a node holds that the grid edits: a Linear's weight and bias, a Parameter's value. */
export type TensorName = 'weight' | 'bias' | 'value';

export function setTensor(project: Project, id: string, tensor: TensorName, value: NestedNumbers | undefined): Project {
  return mapNode(project, id, (n) => {
    const tensors = { ...('tensors' in n ? n.tensors : {}) } as Record<string, NestedNumbers | undefined>;
    if (value === undefined) delete tensors[tensor];
    else tensors[tensor] = value;
    const { tensors: _old, ...rest } = n as ProjectNode & { tensors?: unknown };
    return (Object.keys(tensors).length ? { ...rest, tensors } : rest) as ProjectNode;
  });
}

/** Locked cells of one tensor: each a full index. An empty list removes the entry. */
export function setLocked(project: Project, id: string, tensor: TensorName, cells: number[][]): Project {
  return mapNode(project, id, (n) => {
    const locked = { ...('locked' in n ? n.locked : {}) } as Record<string, number[][]>;
    if (cells.length) locked[tensor] = cells;
    else delete locked[tensor];
    const { locked: _old, ...rest } = n as ProjectNode & { locked?: unknown };
    return (Object.keys(locked).length ? { ...rest, locked } : rest) as ProjectNode;
  });
}

export function setData(project: Project, data: ProjectData | undefined): Project {
  const { data: _old, ...rest } = project;
  return data ? { ...rest, data } : rest;
}

export function setTraining(project: Project, training: Project['training']): Project {
  return { ...project, training };
}

/** One training setting; undefined removes an optional one, so PyTorch's default applies. */
export function setTrainingOption(project: Project, key: string, value: unknown): Project {
  const next = { ...project.training } as Record<string, unknown>;
  if (value === undefined && key !== 'epochs') delete next[key];
  else next[key] = value;
  return setTraining(project, next as Project['training']);
}

export function setMeta(project: Project, meta: { title?: string; description?: string }): Project {
  const next = { ...project, ...meta };
  for (const key of ['title', 'description'] as const) if (!next[key]) delete next[key];
  return next;
}

/** A copied subgraph: the nodes and the edges between them. */
export interface Clip {
  nodes: ProjectNode[];
  edges: Edge[];
}

export function clipOf(project: Project, ids: ReadonlySet<string>): Clip {
  return {
    nodes: project.nodes.filter((n) => ids.has(n.id)),
    edges: project.edges.filter((e) => ids.has(e.from.node) && ids.has(e.to.node)),
  };
}

/** The key that marks clipboard text as copied nodes; its value is the shape's version. */
export const CLIP_FORMAT = 'backprop-studio/nodes';
const CLIP_VERSION = 1;

/**
 * Copied nodes as clipboard text, so they paste into another window of the app:
 * `{"backprop-studio/nodes": 1, "nodes": [...], "edges": [...]}`, where nodes and edges are as in
 * a project file (docs/project-format.md) and every edge joins two of the nodes.
 */
export function clipText(clip: Clip): string {
  return JSON.stringify({ [CLIP_FORMAT]: CLIP_VERSION, nodes: clip.nodes, edges: clip.edges });
}

/**
 * The copied nodes in clipboard text: null for text that is not ours (anything else a user copied),
 * an error sentence for ours when a newer version wrote it or its nodes are not valid.
 */
export function clipFromText(text: string): Clip | { error: string } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || !(CLIP_FORMAT in value)) return null;
  const { [CLIP_FORMAT]: version, nodes, edges } = value as Record<string, unknown>;
  if (version !== CLIP_VERSION) return { error: `The copied nodes are of version ${JSON.stringify(version)}; this app pastes version ${CLIP_VERSION}.` };
  // Checked as a project file's nodes and edges are, so nothing invalid reaches the document.
  try {
    const checked = loadProject(JSON.stringify({ ...emptyProject(), nodes, edges }));
    const ids = new Set(checked.nodes.map((n) => n.id));
    return { nodes: checked.nodes, edges: checked.edges.filter((e) => ids.has(e.from.node) && ids.has(e.to.node)) };
  } catch (e) {
    if (e instanceof ProjectError) return { error: `The copied nodes cannot be pasted: ${e.problems[0].message}` };
    throw e;
  }
}

/**
 * Adds a copy of a subgraph, moved by `offset`, with fresh ids and names (a copied name would
 * clash in state_dict). Returns the new ids, for the editor to select them.
 */
export function paste(project: Project, clip: Clip, offset: Position): { project: Project; ids: string[] } {
  const taken = takenNames(project);
  const renamed = new Map<string, string>();
  const nodes = clip.nodes.map((n) => {
    const id = freshId(n.type, taken);
    taken.add(id);
    renamed.set(n.id, id);
    const { name: _name, ...rest } = n;
    const at = n.position ?? { x: 0, y: 0 };
    return { ...rest, id, position: { x: at.x + offset.x, y: at.y + offset.y } } as ProjectNode;
  });
  const edges = clip.edges.map((e) => ({
    from: { ...e.from, node: renamed.get(e.from.node) as string },
    to: { ...e.to, node: renamed.get(e.to.node) as string },
  }));
  return { project: { ...project, nodes: [...project.nodes, ...nodes], edges: [...project.edges, ...edges] }, ids: [...renamed.values()] };
}

/** Whether an edge from → to would close a cycle: `to` already reaches `from`. */
export function wouldCycle(project: Project, from: string, to: string): boolean {
  if (from === to) return true;
  const next = new Map<string, string[]>();
  for (const e of project.edges) next.set(e.from.node, [...(next.get(e.from.node) ?? []), e.to.node]);
  const seen = new Set<string>();
  const stack = [to];
  while (stack.length) {
    const at = stack.pop() as string;
    if (at === from) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    stack.push(...(next.get(at) ?? []));
  }
  return false;
}
