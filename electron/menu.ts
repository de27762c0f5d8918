/**
 * The application menu as Electron's template, built from plain data so it is tested without
 * Electron: File, Edit, View, Help (and the macOS app and Window menus), with each platform's
 * usual shortcuts. File operations run in main; editing, view and export commands go to the page.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { MenuCommand } from './api';

export interface MenuActions {
  /** A command for the page. */
  command(command: MenuCommand): void;
  open(): void;
  openRecent(path: string): void;
  clearRecent(): void;
  save(): void;
  saveAs(): void;
  close(): void;
  about(): void;
}

export interface MenuOptions {
  platform: NodeJS.Platform;
  recent: readonly string[];
  darkMode: boolean;
  /** Developer tools in the View menu (development builds only). */
  devTools: boolean;
}

/** A path as a menu label: Windows and Linux read & as a mnemonic marker. */
const label = (path: string): string => path.replaceAll('&', '&&');

export function buildMenuTemplate(options: MenuOptions, actions: MenuActions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin';
  const send = (command: MenuCommand) => () => actions.command(command);
  const separator: MenuItemConstructorOptions = { type: 'separator' };

  const recent: MenuItemConstructorOptions[] = options.recent.length === 0
    ? [{ label: 'No Recent Files', enabled: false }]
    : options.recent.map((path) => ({ label: label(path), click: () => actions.openRecent(path) }));

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: '&New', accelerator: 'CmdOrCtrl+N', click: send('new') },
      { label: '&Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.open() },
      { label: 'Open &Recent', submenu: [...recent, separator, { label: 'Clear Menu', enabled: options.recent.length > 0, click: () => actions.clearRecent() }] },
      separator,
      { label: '&Save', accelerator: 'CmdOrCtrl+S', click: () => actions.save() },
      { label: 'Save &As…', accelerator: 'Shift+CmdOrCtrl+S', click: () => actions.saveAs() },
      separator,
      { label: 'Export &Weights JSON…', accelerator: 'CmdOrCtrl+E', click: send('export-weights') },
      { label: 'Export &PyTorch Script…', click: send('export-pytorch') },
      { label: 'Export &ONNX…', click: send('export-onnx') },
      separator,
      { label: '&Close', accelerator: 'CmdOrCtrl+W', click: () => actions.close() },
      ...(mac ? [] : [separator, { role: 'quit', label: options.platform === 'win32' ? 'E&xit' : '&Quit', accelerator: options.platform === 'win32' ? 'Alt+F4' : 'Ctrl+Q' } as MenuItemConstructorOptions]),
    ],
  };

  const edit: MenuItemConstructorOptions = {
    label: '&Edit',
    submenu: [
      // The project's own history (the page undoes text in a focused field itself).
      { label: '&Undo', accelerator: 'CmdOrCtrl+Z', click: send('undo') },
      { label: '&Redo', accelerator: mac ? 'Shift+Cmd+Z' : 'Ctrl+Y', click: send('redo') },
      separator,
      { role: 'cut', label: 'Cu&t' },
      { role: 'copy', label: '&Copy' },
      { role: 'paste', label: '&Paste' },
      { role: 'delete', label: '&Delete' },
      separator,
      { role: 'selectAll', label: 'Select &All' },
    ],
  };

  const view: MenuItemConstructorOptions = {
    label: '&View',
    submenu: [
      { label: 'Zoom &In', accelerator: 'CmdOrCtrl+=', click: send('zoom-in') },
      { label: 'Zoom &Out', accelerator: 'CmdOrCtrl+-', click: send('zoom-out') },
      { label: 'Actual &Size', accelerator: 'CmdOrCtrl+0', click: send('zoom-reset') },
      { label: '&Fit to Window', accelerator: 'CmdOrCtrl+1', click: send('fit') },
      separator,
      { label: 'Toggle &Palette', accelerator: 'CmdOrCtrl+Alt+1', click: send('toggle-palette') },
      { label: 'Toggle &Inspector', accelerator: 'CmdOrCtrl+Alt+2', click: send('toggle-inspector') },
      { label: 'Toggle &Training', accelerator: 'CmdOrCtrl+Alt+3', click: send('toggle-training') },
      separator,
      { label: '&Dark Mode', type: 'checkbox', checked: options.darkMode, click: (item) => actions.command(item.checked ? 'dark-mode' : 'light-mode') },
      { role: 'togglefullscreen' },
      ...(options.devTools ? [{ role: 'toggleDevTools' } as MenuItemConstructorOptions] : []),
    ],
  };

  const help: MenuItemConstructorOptions = {
    label: '&Help',
    role: 'help',
    submenu: [
      { label: 'Backprop Studio &Documentation', accelerator: mac ? undefined : 'F1', click: send('help-docs') },
      ...(mac ? [] : [separator, { label: '&About Backprop Studio', click: () => actions.about() }]),
    ],
  };

  return mac
    ? [{ role: 'appMenu' }, file, edit, view, { role: 'windowMenu' }, help]
    : [file, edit, view, help];
}
