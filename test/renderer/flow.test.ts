import { describe, expect, it } from 'vitest';
import { LARGE_GRAPH, toFlowEdges, toFlowNodes } from '../../renderer/editor/flow';
import { addNode, connect, emptyProject, renameNode } from '../../renderer/state/commands';
import type { Project } from '../../engine/protocol';

function chain(length: number): Project {
  let p = emptyProject();
  for (let i = 0; i < length; i++) p = addNode(p, { type: 'ReLU' }, { x: i * 200, y: 0 }).project;
  for (let i = 1; i < length; i++) p = connect(p, { from: { node: `relu${i}`, port: 'out' }, to: { node: `relu${i + 1}`, port: 'in' } });
  return p;
}

describe('the canvas model', () => {
  it('draws each node with its ports, shapes and problems', () => {
    const p = chain(2);
    const summary = { nodes: [{ id: 'relu1', name: 'relu1', type: 'ReLU', shape: ['N', 3] as (number | 'N')[] }, { id: 'relu2', name: 'relu2', type: 'ReLU', shape: null }], parameters: [] };
    const [a, b] = toFlowNodes(p, [{ message: 'bad', node: 'relu1' }], summary, new Set(['relu2']), new Map());
    expect(a).toMatchObject({ id: 'relu1', type: 'activation', data: { ports: ['in'], shapes: { in: ['?'], out: '[N, 3]' }, problems: ['bad'] }, selected: false });
    expect(b).toMatchObject({ data: { shapes: { in: ['[N, 3]'], out: null }, problems: [] }, selected: true });
    expect(toFlowEdges(p, new Set())).toEqual([{ id: 'relu1→relu2:in', source: 'relu1', target: 'relu2', sourceHandle: 'out', targetHandle: 'in', selected: false }]);
  });

  it('keeps the objects of nodes that did not change, so Svelte Flow keeps their measurements', () => {
    const p = chain(3);
    const first = toFlowNodes(p, [], null, new Set(), new Map());
    const measured = new Map(first.map((n) => [n.id, { ...n, measured: { width: 170, height: 60 } }]));
    const next = toFlowNodes(renameNode(p, 'relu2', 'middle'), [], null, new Set(), measured);
    expect(next[0]).toBe(measured.get('relu1'));
    expect(next[1]).not.toBe(measured.get('relu2'));
    expect(next[1].measured).toEqual({ width: 170, height: 60 });
  });

  it('gives the nodes of a large graph a size and ports before they are drawn, so only those in view are', () => {
    expect(toFlowNodes(chain(3), [], null, new Set(), new Map())[0].handles).toBeUndefined();
    const [node] = toFlowNodes(chain(LARGE_GRAPH), [], null, new Set(), new Map());
    expect(node).toMatchObject({ initialWidth: 170, initialHeight: 64 });
    expect(node.handles?.map((h) => [h.id, h.type])).toEqual([['in', 'target'], ['out', 'source']]);
  });
});
