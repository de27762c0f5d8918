/** The main process's logic, under plain Node: recent files, window state, autosave, title, security rules. */
import { mkdtempSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Autosaver, readAutosave } from '../../electron/autosave';
import { electronBinary } from '../../electron/binary';
import { addRecent, MAX_RECENT, parseRecent, RecentFiles, removeRecent } from '../../electron/recent_files';
import { APP_URL, CONTENT_SECURITY_POLICY, grantsPermission, isTrustedSender, resolveAppFile } from '../../electron/security';
import { windowTitle } from '../../electron/title';
import { DEFAULT_WINDOW_STATE, fitToDisplays, MIN_SIZE, parseWindowState } from '../../electron/window_state';

const tempDir = () => mkdtempSync(join(tmpdir(), 'bps-main-'));

afterEach(() => {
  vi.useRealTimers();
});

describe('recent files', () => {
  it('keeps the most recent first, once each, at most ten', () => {
    let list: string[] = [];
    for (let i = 0; i < 12; i++) list = addRecent(list, `/p/${i}.json`);
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]).toBe('/p/11.json');
    list = addRecent(list, '/p/5.json');
    expect(list.slice(0, 2)).toEqual(['/p/5.json', '/p/11.json']);
    expect(list.filter((p) => p === '/p/5.json')).toHaveLength(1);
    expect(removeRecent(list, '/p/5.json')).not.toContain('/p/5.json');
  });

  it('reads anything unreadable as an empty list', () => {
    expect(parseRecent('not json')).toEqual([]);
    expect(parseRecent('{"a": 1}')).toEqual([]);
    expect(parseRecent('[1, 2]')).toEqual([]);
    expect(parseRecent('["/a.json"]')).toEqual(['/a.json']);
  });

  it('survives a restart in the data folder and says when it changed', async () => {
    const file = join(tempDir(), 'recent-files.json');
    const recent = new RecentFiles(file);
    expect(await recent.load()).toEqual([]);
    const changed = vi.fn();
    recent.onChange = changed;
    await recent.add('/a.json');
    await recent.add('/b.json');
    expect(changed).toHaveBeenCalledTimes(2);
    expect(await new RecentFiles(file).load()).toEqual(['/b.json', '/a.json']);
  });
});

describe('window state', () => {
  const screen = { x: 0, y: 0, width: 1920, height: 1040 };

  it('reads a stored state, and the default from anything else', () => {
    expect(parseWindowState('{"x": 10, "y": 20, "width": 1000, "height": 700, "maximized": true}')).toEqual({ x: 10, y: 20, width: 1000, height: 700, maximized: true });
    expect(parseWindowState('garbage')).toEqual(DEFAULT_WINDOW_STATE);
    expect(parseWindowState('{"width": -5, "height": 700}')).toEqual(DEFAULT_WINDOW_STATE);
  });

  it('keeps a position on a display, and centres a window whose display is gone', () => {
    expect(fitToDisplays({ x: 100, y: 50, width: 1000, height: 700, maximized: false }, [screen])).toEqual({ x: 100, y: 50, width: 1000, height: 700, maximized: false });
    // It was on a second monitor, now unplugged.
    expect(fitToDisplays({ x: 2500, y: 100, width: 1000, height: 700, maximized: false }, [screen])).toEqual({ width: 1000, height: 700, maximized: false });
    // Title bar above the top of the screen: unreachable.
    expect(fitToDisplays({ x: 100, y: -500, width: 1000, height: 700, maximized: false }, [screen])).not.toHaveProperty('x');
  });

  it('fits the size between the minimum and the largest display', () => {
    expect(fitToDisplays({ width: 5000, height: 3000, maximized: false }, [screen, { x: 1920, y: 0, width: 1280, height: 1000 }])).toMatchObject({ width: 1920, height: 1040 });
    expect(fitToDisplays({ width: 100, height: 100, maximized: false }, [screen])).toMatchObject(MIN_SIZE);
  });
});

describe('autosave', () => {
  it('writes the unsaved text every few seconds while dirty, and removes it once saved', async () => {
    vi.useFakeTimers();
    const file = join(tempDir(), 'autosave', 'unsaved-project.json');
    const saver = new Autosaver({ file, intervalMs: 3000 });
    saver.update('{"v": 1}', '/work/p.json');
    saver.update('{"v": 2}', '/work/p.json');
    expect(await readAutosave(file)).toBeNull();
    await vi.advanceTimersByTimeAsync(3000);
    await saver.flush();
    expect(await readAutosave(file)).toMatchObject({ path: '/work/p.json', text: '{"v": 2}' });
    saver.update('{"v": 3}', null);
    await vi.advanceTimersByTimeAsync(3000);
    await saver.flush();
    expect(await readAutosave(file)).toMatchObject({ path: null, text: '{"v": 3}' });
    saver.update(null, null);
    await saver.flush();
    expect(await readAutosave(file)).toBeNull();
    await expect(fs.readdir(join(file, '..'))).resolves.toEqual([]);
  });

  it('leaves a previous run\'s autosave alone when the page reports a clean document', async () => {
    const file = join(tempDir(), 'autosave.json');
    await fs.writeFile(file, JSON.stringify({ path: null, savedAt: '2025-01-01T00:00:00Z', text: '{"old": 1}' }));
    const saver = new Autosaver({ file });
    saver.update(null, null);
    await saver.flush();
    expect(await readAutosave(file)).toMatchObject({ text: '{"old": 1}' });
    await saver.discard();
    expect(await readAutosave(file)).toBeNull();
  });

  it('reads a missing or damaged autosave as none', async () => {
    const dir = tempDir();
    expect(await readAutosave(join(dir, 'none.json'))).toBeNull();
    await fs.writeFile(join(dir, 'bad.json'), '{"path": 3');
    expect(await readAutosave(join(dir, 'bad.json'))).toBeNull();
  });

  it('says in one sentence when it cannot write, and keeps going', async () => {
    const dir = tempDir();
    await fs.writeFile(join(dir, 'blocker'), 'a file where the folder should be');
    const errors: string[] = [];
    const saver = new Autosaver({ file: join(dir, 'blocker', 'autosave.json'), onError: (m) => errors.push(m) });
    saver.update('{}', null);
    await saver.flush();
    expect(errors).toEqual([expect.stringMatching(/^Autosave failed: /)]);
    await saver.discard();
  });
});

describe('the window title', () => {
  it('shows the file name, an unsaved mark, and the app', () => {
    expect(windowTitle('/home/ada/nets/xor.bpstudio', false)).toBe('xor.bpstudio — Backprop Studio');
    expect(windowTitle('/home/ada/nets/xor.bpstudio', true)).toBe('• xor.bpstudio — Backprop Studio');
    expect(windowTitle(null, true)).toBe('• Untitled — Backprop Studio');
  });
});

describe('security rules', () => {
  const root = '/opt/app/dist/web';

  it('serves only files inside the built page', () => {
    expect(resolveAppFile(root, APP_URL)).toBe(`${root}/index.html`);
    expect(resolveAppFile(root, 'app://bundle/')).toBe(`${root}/index.html`);
    expect(resolveAppFile(root, 'app://bundle/assets/index-abc.js')).toBe(`${root}/assets/index-abc.js`);
    // The URL parser resolves dot segments first, so this one stays inside.
    expect(resolveAppFile(root, 'app://bundle/../secrets.txt')).toBe(`${root}/secrets.txt`);
    expect(resolveAppFile(root, 'app://bundle/%2e%2e/%2e%2e/etc/passwd')).toBe(`${root}/etc/passwd`);
    for (const bad of ['app://bundle/..%2f..%2fetc/passwd', 'app://bundle/a%00b', 'app://other/index.html', 'file:///etc/passwd', 'https://example.com/', 'app://bundle/%E0%A4%A']) {
      expect(resolveAppFile(root, bad), bad).toBeNull();
    }
  });

  it('answers IPC only from the app page\'s main frame', () => {
    expect(isTrustedSender({ url: APP_URL, parent: null })).toBe(true);
    expect(isTrustedSender({ url: 'app://bundle/index.html#/x', parent: null })).toBe(true);
    expect(isTrustedSender({ url: APP_URL, parent: {} })).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'file:///tmp/x.html', parent: null })).toBe(false);
    expect(isTrustedSender({ url: 'not a url', parent: null })).toBe(false);
    expect(isTrustedSender(null)).toBe(false);
  });

  it('grants the app page the clipboard (copy and paste of nodes) and nothing else to anyone', () => {
    expect(grantsPermission('clipboard-read', APP_URL)).toBe(true);
    expect(grantsPermission('clipboard-sanitized-write', 'app://bundle')).toBe(true);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'fileSystem']) expect(grantsPermission(permission, APP_URL), permission).toBe(false);
    expect(grantsPermission('clipboard-read', 'https://evil.example/')).toBe(false);
    expect(grantsPermission('clipboard-read', 'file:///tmp/x.html')).toBe(false);
    expect(grantsPermission('clipboard-read', '')).toBe(false);
  });

  it('has a strict Content-Security-Policy: own scripts only, no eval, no objects, no framing', () => {
    const directives = new Map(CONTENT_SECURITY_POLICY.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*/);
  });
});

describe('the Electron binary', () => {
  it('is looked for without require("electron") (which would download it)', async () => {
    const dir = tempDir();
    expect(electronBinary(dir, {})).toBeNull();
    await fs.mkdir(join(dir, 'node_modules', 'electron', 'dist'), { recursive: true });
    await fs.writeFile(join(dir, 'node_modules', 'electron', 'path.txt'), 'electron');
    expect(electronBinary(dir, {})).toBeNull();
    await fs.writeFile(join(dir, 'node_modules', 'electron', 'dist', 'electron'), '');
    expect(electronBinary(dir, {})).toBe(join(dir, 'node_modules', 'electron', 'dist', 'electron'));
  });
});
