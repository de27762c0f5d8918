/** The application menu's template, per platform, and what its items do. */
import type { MenuItemConstructorOptions } from 'electron';
import { describe, expect, it } from 'vitest';
import type { MenuCommand } from '../../electron/api';
import { buildMenuTemplate, type MenuActions } from '../../electron/menu';

function build(platform: NodeJS.Platform, recent: string[] = []) {
  const calls: string[] = [];
  const actions: MenuActions = {
    command: (c: MenuCommand) => calls.push(`command ${c}`),
    open: () => calls.push('open'),
    openRecent: (p) => calls.push(`recent ${p}`),
    clearRecent: () => calls.push('clear'),
    save: () => calls.push('save'),
    saveAs: () => calls.push('saveAs'),
    close: () => calls.push('close'),
    about: () => calls.push('about'),
  };
  const template = buildMenuTemplate({ platform, recent, darkMode: false, devTools: false }, actions);
  const items = (menu: MenuItemConstructorOptions) => menu.submenu as MenuItemConstructorOptions[];
  const menu = (name: string) => template.find((m) => m.label?.replace('&', '') === name) as MenuItemConstructorOptions;
  const item = (menuName: string, name: string) => items(menu(menuName)).find((i) => i.label?.replace(/&/g, '') === name) as MenuItemConstructorOptions;
  const click = (i: MenuItemConstructorOptions, checked = false) => (i.click as unknown as (item: { checked: boolean }) => void)({ checked });
  return { template, calls, menu, item, items, click };
}

describe('the application menu', () => {
  it('has File, Edit, View and Help with the items the issue lists', () => {
    const { template, items, menu } = build('linux');
    expect(template.map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Help']);
    const labels = (name: string) => items(menu(name)).filter((i) => i.type !== 'separator').map((i) => (i.label ?? i.role)?.replace(/&/g, ''));
    expect(labels('File')).toEqual(['New', 'Open…', 'Open Recent', 'Save', 'Save As…', 'Export Weights JSON…', 'Export PyTorch Script…', 'Export ONNX…', 'Close', 'Quit']);
    expect(labels('Edit')).toEqual(['Undo', 'Redo', 'Cut', 'Copy', 'Paste', 'Delete', 'Select All']);
    expect(labels('View')).toEqual(['Zoom In', 'Zoom Out', 'Actual Size', 'Fit to Window', 'Toggle Palette', 'Toggle Inspector', 'Toggle Training', 'Dark Mode', 'togglefullscreen']);
    expect(labels('Help')).toEqual(['Backprop Studio Documentation', 'About Backprop Studio']);
  });

  it('uses each platform\'s shortcuts and menus', () => {
    const mac = build('darwin');
    expect(mac.template[0]).toEqual({ role: 'appMenu' });
    expect(mac.template.map((m) => m.role ?? m.label)).toEqual(['appMenu', '&File', '&Edit', '&View', 'windowMenu', 'help']);
    expect(mac.item('Edit', 'Redo').accelerator).toBe('Shift+Cmd+Z');
    expect(mac.items(mac.menu('File')).some((i) => i.role === 'quit')).toBe(false);
    const win = build('win32');
    expect(win.item('Edit', 'Redo').accelerator).toBe('Ctrl+Y');
    expect(win.item('File', 'Exit')).toMatchObject({ role: 'quit', accelerator: 'Alt+F4' });
    const linux = build('linux');
    expect(linux.item('File', 'Quit')).toMatchObject({ role: 'quit', accelerator: 'Ctrl+Q' });
    for (const t of [mac, win, linux]) {
      expect(t.item('File', 'Save').accelerator).toBe('CmdOrCtrl+S');
      expect(t.item('File', 'Save As…').accelerator).toBe('Shift+CmdOrCtrl+S');
      expect(t.item('File', 'Open…').accelerator).toBe('CmdOrCtrl+O');
      expect(t.item('Edit', 'Undo').accelerator).toBe('CmdOrCtrl+Z');
      expect(t.item('Edit', 'Copy').role).toBe('copy');
    }
  });

  it('lists recent files (escaping & for mnemonics) and sends each item where it belongs', () => {
    const t = build('win32', ['C:\\R&D\\xor.json', 'C:\\seed.json']);
    const recent = t.items(t.item('File', 'Open Recent'));
    expect(recent.map((i) => i.label ?? i.type)).toEqual(['C:\\R&&D\\xor.json', 'C:\\seed.json', 'separator', 'Clear Menu']);
    t.click(recent[0]);
    t.click(recent[3]);
    t.click(t.item('File', 'Save'));
    t.click(t.item('File', 'Export Weights JSON…'));
    t.click(t.item('Edit', 'Undo'));
    t.click(t.item('View', 'Dark Mode'), true);
    t.click(t.item('View', 'Fit to Window'));
    t.click(t.item('Help', 'About Backprop Studio'));
    expect(t.calls).toEqual(['recent C:\\R&D\\xor.json', 'clear', 'save', 'command export-weights', 'command undo', 'command dark-mode', 'command fit', 'about']);
    const empty = build('linux');
    expect(empty.items(empty.item('File', 'Open Recent'))[0]).toMatchObject({ label: 'No Recent Files', enabled: false });
  });
});
