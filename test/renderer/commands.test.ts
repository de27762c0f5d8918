import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { NODE_TYPES, ProjectSchema } from '../../engine/project/schema';
import { PALETTE, PALETTE_BY_TYPE } from '../../renderer/editor/catalog';
import { refusal } from '../../renderer/editor/flow';
import { autoLayout } from '../../renderer/editor/layout';
import {
  addNode, CLIP_FORMAT, clipFromText, clipOf, clipText, connect, edgeId, emptyProject, freshId, paste, removeNodes, renameNode, setLocked, setParams, setTensor, wouldCycle,
} from '../../renderer/state/commands';
import { withWeights } from '../../renderer/state/run.svelte';
import type { Project } from '../../engine/protocol';

function chain(...types: string[]): Project {
  let p = emptyProject();
  for (const type of types) p = addNode(p, (PALETTE_BY_TYPE.get(type as never) as (typeof PALETTE)[number]).create(), { x: 0, y: 0 }).project;
  for (let i = 1; i < p.nodes.length; i++) p = connect(p, { from: { node: p.nodes[i - 1].id, port: 'out' }, to: { node: p.nodes[i].id, port: 'in' } });
  return p;
}

describe('the palette', () => {
  it('offers every node type, each creating a node the project format accepts', () => {
    expect(PALETTE.map((e) => e.type).sort()).toEqual([...NODE_TYPES].sort());
    let p = emptyProject();
    for (const entry of PALETTE) p = addNode(p, entry.create(), { x: 0, y: 0 }).project;
    expect(v.safeParse(ProjectSchema, p).issues).toBeUndefined();
    expect(new Set(p.nodes.map((n) => n.id)).size).toBe(NODE_TYPES.length);
  });

  it('gives each new node its own object', () => {
    const entry = PALETTE_BY_TYPE.get('Input') as (typeof PALETTE)[number];
    expect(entry.create()).not.toBe(entry.create());
  });
});

describe('editing commands', () => {
  it('names new nodes by type, skipping names taken', () => {
    expect(freshId('Linear', new Set(['linear1']))).toBe('linear2');
    expect(freshId('CrossEntropyLoss', new Set())).toBe('loss1');
    const p = renameNode(chain('Linear'), 'linear1', 'linear2');
    expect(addNode(p, { type: 'Linear', params: { in_features: 1, out_features: 1 } }, { x: 7, y: 8 })).toMatchObject({ id: 'linear3', project: { nodes: [{}, { position: { x: 0, y: 15 } }] } });
  });

  it('removes nodes with their edges, and a port takes one edge', () => {
    const p = chain('Input', 'Linear', 'ReLU');
    expect(removeNodes(p, new Set(['linear1'])).edges).toEqual([]);
    const replaced = connect(p, { from: { node: 'input1', port: 'out' }, to: { node: 'relu1', port: 'in' } });
    expect(replaced.edges.map(edgeId)).toEqual(['input1→linear1:in', 'input1→relu1:in']);
  });

  it('finds cycles before they are made, and says so', () => {
    const p = chain('Input', 'Linear', 'ReLU', 'Linear');
    expect(wouldCycle(p, 'linear2', 'linear1')).toBe(true);
    expect(wouldCycle(p, 'input1', 'linear2')).toBe(false);
    expect(refusal(p, { source: 'linear2', target: 'linear1' })).toBe("'linear2' → 'linear1' would close a cycle: 'linear1' already feeds 'linear2', and a network must flow one way.");
    expect(refusal(p, { source: 'relu1', target: 'relu1' })).toBe("'relu1' cannot feed itself.");
    expect(refusal(p, { source: 'input1', target: 'linear2' })).toBeNull();
  });

  it('keeps the weights that still fit when a layer is resized, and drops the rest', () => {
    let p = chain('Linear');
    p = setTensor(p, 'linear1', 'weight', [[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    p = setTensor(p, 'linear1', 'bias', [1, 2, 3]);
    p = setLocked(p, 'linear1', 'weight', [[0, 2], [2, 0]]);
    const wider = setParams(p, 'linear1', { in_features: 4, out_features: 3 });
    expect(wider.nodes[0]).toMatchObject({ tensors: { bias: [1, 2, 3] }, locked: { weight: [[0, 2], [2, 0]] } });
    expect('weight' in (wider.nodes[0] as { tensors: object }).tensors).toBe(false);
    const fewer = setParams(p, 'linear1', { in_features: 2, out_features: 2, bias: false });
    expect(fewer.nodes[0]).toEqual({ id: 'linear1', type: 'Linear', position: { x: 0, y: 0 }, params: { in_features: 2, out_features: 2, bias: false } });
  });

  it('pastes a copied subgraph with fresh ids and its inner edges only', () => {
    const p = renameNode(chain('Input', 'Linear', 'ReLU'), 'linear1', 'hidden');
    const clip = clipOf(p, new Set(['linear1', 'relu1']));
    expect(clip.edges).toHaveLength(1);
    const { project, ids } = paste(p, clip, { x: 30, y: 30 });
    expect(ids).toEqual(['linear2', 'relu2']);
    expect(project.edges.map(edgeId)).toContain('linear2→relu2:in');
    expect(project.nodes.find((n) => n.id === 'linear2')?.name).toBeUndefined(); // the name 'hidden' stays unique
  });

  it('copies nodes as versioned clipboard text, reads them back checked, and leaves other text alone', () => {
    const p = chain('Input', 'Linear', 'ReLU');
    const clip = clipOf(p, new Set(['linear1', 'relu1']));
    const text = clipText(clip);
    expect(JSON.parse(text)).toEqual({ [CLIP_FORMAT]: 1, nodes: clip.nodes, edges: clip.edges });
    expect(clipFromText(text)).toEqual(clip);
    for (const other of ['hello', '[[0.1, 0.2]]', '{"format": "backprop-studio-project"}', '3']) expect(clipFromText(other)).toBeNull();
    expect(clipFromText(JSON.stringify({ [CLIP_FORMAT]: 2, nodes: [], edges: [] }))).toEqual({ error: 'The copied nodes are of version 2; this app pastes version 1.' });
    const bad = clipFromText(JSON.stringify({ [CLIP_FORMAT]: 1, nodes: [{ id: 'a', type: 'Linear', params: { in_features: -1, out_features: 2 } }], edges: [] }));
    expect(bad).toEqual({ error: expect.stringMatching(/^The copied nodes cannot be pasted: nodes\[0\]\.params\.in_features \(node 'a'\) must be/) });
    // An edge to a node that was not copied is dropped, not pasted dangling.
    const dangling = { ...clip, edges: [...clip.edges, { from: { node: 'input1', port: 'out' }, to: { node: 'linear1', port: 'in' } }] };
    expect(clipFromText(clipText(dangling))).toEqual(clip);
  });

  it('writes trained weights into the nodes by state_dict name, as shortest float32 decimals', () => {
    const p = renameNode(chain('Linear'), 'linear1', 'hidden');
    const trained = withWeights(p, { 'hidden.weight': [[0.10000000149011612, 2], [3, 4], [5, 6]], 'hidden.bias': [1, 2, 3] });
    expect(trained.nodes[0]).toMatchObject({ tensors: { weight: [[0.1, 2], [3, 4], [5, 6]], bias: [1, 2, 3] } });
  });

  it('lays the graph out left to right', () => {
    const positions = autoLayout(chain('Input', 'Linear', 'ReLU'), new Map());
    const xs = ['input1', 'linear1', 'relu1'].map((id) => positions.get(id)?.x as number);
    expect(xs[0]).toBeLessThan(xs[1]);
    expect(xs[1]).toBeLessThan(xs[2]);
  });
});
