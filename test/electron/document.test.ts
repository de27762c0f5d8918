/** File operations as main performs them, with the dialogs answered by the test. */
import { existsSync, mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OpenedFile } from '../../electron/api';
import { Autosaver, readAutosave } from '../../electron/autosave';
import { type Answer, DocumentController, type DocumentUi, suggestedName } from '../../electron/document';
import { RecentFiles } from '../../electron/recent_files';

function setup(answers: { save?: Answer; savePath?: string | null; openPath?: string | null; pageText?: string | null } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bps-doc-'));
  const shown: OpenedFile[] = [];
  const errors: string[] = [];
  const asked: string[] = [];
  const titles: string[] = [];
  const ui: DocumentUi = {
    askSave: async (name, action) => {
      asked.push(`${name} ${action}`);
      return answers.save ?? 'cancel';
    },
    pickOpenPath: async () => answers.openPath ?? null,
    pickSavePath: async () => (answers.savePath === undefined ? join(dir, 'picked.bpstudio') : answers.savePath),
    pageText: async () => (answers.pageText === undefined ? '{"page": true}' : answers.pageText),
    showFile: (file) => shown.push(file),
    showError: (message) => errors.push(message),
    titleChanged: (title) => titles.push(title),
  };
  const autosaveFile = join(dir, 'data', 'autosave.json');
  const autosaver = new Autosaver({ file: autosaveFile, intervalMs: 60_000 });
  const recent = new RecentFiles(join(dir, 'recent.json'));
  const doc = new DocumentController(ui, autosaver, recent);
  return { dir, doc, shown, errors, asked, titles, autosaver, autosaveFile, recent };
}

describe('the document in main', () => {
  it('opens a file, shows it, and remembers it in Open Recent', async () => {
    const t = setup();
    const file = join(t.dir, 'xor.bpstudio');
    await fs.writeFile(file, '{"x": 1}');
    await t.doc.open(file);
    expect(t.shown).toEqual([{ path: file, text: '{"x": 1}' }]);
    expect(t.recent.list).toEqual([file]);
    expect(t.titles.at(-1)).toBe('xor.bpstudio — Backprop Studio');
  });

  it('says in one sentence why a file cannot be opened, and drops it from Open Recent', async () => {
    const t = setup();
    const gone = join(t.dir, 'gone.json');
    await t.recent.add(gone);
    await t.doc.open(gone);
    expect(t.errors).toEqual([`Cannot read ${gone}: the file or its folder does not exist.`]);
    expect(t.recent.list).toEqual([]);
    expect(t.shown).toEqual([]);
  });

  it('marks unsaved changes in the title and autosaves them; saving clears both', async () => {
    const t = setup();
    t.doc.changed('{"v": 1}');
    expect(t.titles.at(-1)).toBe('• Untitled — Backprop Studio');
    await t.autosaver.flush();
    expect(await readAutosave(t.autosaveFile)).toMatchObject({ text: '{"v": 1}', path: null });
    const path = await t.doc.save();
    expect(path).toBe(join(t.dir, 'picked.bpstudio'));
    expect(await fs.readFile(path as string, 'utf8')).toBe('{"page": true}');
    expect(t.doc.dirty).toBe(false);
    expect(t.titles.at(-1)).toBe('picked.bpstudio — Backprop Studio');
    expect(existsSync(t.autosaveFile)).toBe(false);
  });

  it('saves to the same file next time, atomically, keeping the previous version as .bak', async () => {
    const t = setup();
    const file = join(t.dir, 'p.json');
    await fs.writeFile(file, 'old');
    await t.doc.open(file);
    t.doc.changed('new');
    expect(await t.doc.save('new')).toBe(file);
    expect(await fs.readFile(file, 'utf8')).toBe('new');
    expect(await fs.readFile(`${file}.bak`, 'utf8')).toBe('old');
  });

  it('keeps the changes when the save fails, and says why', async () => {
    const t = setup({ savePath: join('/nonexistent-folder', 'x.json') });
    t.doc.changed('{"v": 2}');
    expect(await t.doc.save()).toBeNull();
    expect(t.errors).toEqual([expect.stringMatching(/^Could not save \/nonexistent-folder\/x\.json: .*; the file on disk is unchanged\.$/)]);
    expect(t.doc.dirty).toBe(true);
  });

  it('asks before unsaved changes are lost: cancel keeps them, save saves them, discard drops the autosave', async () => {
    const cancel = setup({ save: 'cancel' });
    cancel.doc.changed('{}');
    expect(await cancel.doc.confirmDiscard('close')).toBe(false);
    expect(cancel.asked).toEqual(['Untitled close']);

    const save = setup({ save: 'save' });
    save.doc.changed('{}');
    expect(await save.doc.confirmDiscard('close')).toBe(true);
    expect(existsSync(join(save.dir, 'picked.bpstudio'))).toBe(true);

    const cancelledSave = setup({ save: 'save', savePath: null });
    cancelledSave.doc.changed('{}');
    expect(await cancelledSave.doc.confirmDiscard('close')).toBe(false);

    const discard = setup({ save: 'discard' });
    discard.doc.changed('{}');
    await discard.autosaver.flush();
    expect(await discard.doc.confirmDiscard('open')).toBe(true);
    expect(existsSync(discard.autosaveFile)).toBe(false);

    const clean = setup();
    expect(await clean.doc.confirmDiscard('close')).toBe(true);
    expect(clean.asked).toEqual([]);
  });

  it('falls back to the last reported text when the page cannot answer', async () => {
    const t = setup();
    const ui = (t.doc as unknown as { ui: DocumentUi }).ui;
    ui.pageText = () => Promise.reject(new Error('hung'));
    t.doc.changed('{"last": true}');
    const path = await t.doc.save();
    expect(await fs.readFile(path as string, 'utf8')).toBe('{"last": true}');
  });

  it('restores an autosave as unsaved changes to its file', async () => {
    const t = setup();
    t.doc.restore({ path: '/home/ada/xor.json', savedAt: new Date().toISOString(), text: '{"r": 1}' });
    expect(t.shown).toEqual([{ path: '/home/ada/xor.json', text: '{"r": 1}', restored: true }]);
    expect(t.doc.dirty).toBe(true);
    expect(t.titles.at(-1)).toBe('• xor.json — Backprop Studio');
  });

  it('exports to the place picked, with the kind\'s file name', async () => {
    const t = setup({ savePath: undefined });
    expect(suggestedName('/a/xor.bpstudio', 'weights')).toBe('xor.weights.json');
    expect(suggestedName(null, 'pytorch')).toBe('Untitled.py');
    // Saves named by version 0.1 (.bpstudio.json) and plain JSON files lose their whole ending.
    expect(suggestedName('/a/xor.bpstudio.json', 'pytorch')).toBe('xor.py');
    expect(suggestedName('C:\\nets\\iris.json', 'onnx')).toBe('iris.onnx');
    expect(suggestedName('/a/xor.json', 'project')).toBe('xor.bpstudio');
    const path = await t.doc.exportTo('weights', '{"w": [1]}');
    expect(await fs.readFile(path as string, 'utf8')).toBe('{"w": [1]}');
  });

  it('exports bytes as they are (an ONNX model)', async () => {
    const t = setup({ savePath: undefined });
    expect(suggestedName('/a/xor.bpstudio', 'onnx')).toBe('xor.onnx');
    const bytes = Uint8Array.from([0x08, 0x08, 0x12, 0xff, 0x00, 0x80]);
    const path = await t.doc.exportTo('onnx', bytes);
    expect(new Uint8Array(await fs.readFile(path as string))).toEqual(bytes);
  });
});
