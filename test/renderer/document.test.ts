import { describe, expect, it } from 'vitest';
import { addNode, connect, emptyProject, moveNodes, renameNode, setTensor } from '../../renderer/state/commands';
import { ProjectDocument } from '../../renderer/state/document.svelte';

const linear = { type: 'Linear', params: { in_features: 3, out_features: 3 } } as const;

describe('the project document', () => {
  it('undoes and redoes every edit, one step each, and knows when it is saved', () => {
    const doc = new ProjectDocument();
    const empty = doc.project;
    expect(doc.dirty).toBe(false);
    doc.apply('Add Linear', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    doc.apply('Move', (p) => moveNodes(p, new Map([['linear1', { x: 30, y: 0 }]])));
    expect(doc.dirty).toBe(true);
    expect(doc.undoLabel).toBe('Move');
    doc.undo();
    expect(doc.project.nodes[0].position).toEqual({ x: 0, y: 0 });
    doc.undo();
    expect(doc.project).toBe(empty);
    expect(doc.dirty).toBe(false);
    expect(doc.canUndo).toBe(false);
    doc.redo();
    doc.redo();
    expect(doc.project.nodes[0].position).toEqual({ x: 30, y: 0 });
    doc.markSaved('net.json');
    expect(doc.dirty).toBe(false);
    doc.undo();
    expect(doc.dirty).toBe(true);
  });

  it('coalesces typing in one field into one step, until the field is left', () => {
    const doc = new ProjectDocument();
    doc.apply('Add Linear', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    for (const name of ['h', 'hi', 'hid', 'hidden']) doc.apply('Rename', (p) => renameNode(p, 'linear1', name), 'name:linear1');
    doc.endTyping();
    doc.apply('Rename', (p) => renameNode(p, 'linear1', 'hidden2'), 'name:linear1');
    expect(doc.project.nodes[0].name).toBe('hidden2');
    doc.undo();
    expect(doc.project.nodes[0].name).toBe('hidden');
    doc.undo();
    expect(doc.project.nodes[0].name).toBeUndefined();
  });

  it('drops the redo steps when a new edit is made, and ignores edits that change nothing', () => {
    const doc = new ProjectDocument();
    doc.apply('Add', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    doc.undo();
    expect(doc.canRedo).toBe(true);
    doc.apply('Nothing', (p) => p);
    expect(doc.canRedo).toBe(true);
    doc.apply('Add', (p) => addNode(p, { type: 'ReLU' }, { x: 0, y: 0 }).project);
    expect(doc.canRedo).toBe(false);
  });

  it('starts a fresh history for a loaded project', () => {
    const doc = new ProjectDocument();
    doc.apply('Add', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    const loaded = connect(emptyProject(), { from: { node: 'a', port: 'out' }, to: { node: 'b', port: 'in' } });
    doc.load(loaded, 'x.json');
    expect([doc.canUndo, doc.dirty, doc.fileName, doc.project]).toEqual([false, false, 'x.json', loaded]);
  });

  it('keeps untouched nodes shared between versions', () => {
    const doc = new ProjectDocument();
    doc.apply('Add', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    doc.apply('Add', (p) => addNode(p, linear, { x: 0, y: 0 }).project);
    const before = doc.project;
    doc.apply('Edit', (p) => setTensor(p, 'linear2', 'bias', [1, 2, 3]));
    expect(doc.project.nodes[0]).toBe(before.nodes[0]);
    expect(doc.project.nodes[1]).not.toBe(before.nodes[1]);
  });
});
