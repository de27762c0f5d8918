/**
 * Electron's main process: one window, the engine in a utility process, files, menus, autosave.
 * Thin glue: the logic lives in plain modules beside it (document, autosave, recent_files,
 * window_state, menu, security, engine_supervisor), which are tested without Electron.
 * Bundled by scripts/build-electron.ts to out/electron/main.cjs.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  Menu,
  MessageChannelMain,
  nativeTheme,
  protocol,
  screen,
  session,
  utilityProcess,
  type UtilityProcess,
  type WebContents,
} from 'electron';
import * as v from 'valibot';
import { saveAtomically } from '../engine/io/file';
import { LIMITS } from '../engine/project/schema';
import { isProjectFileName, type MenuCommand } from './api';
import { Autosaver, type AutosaveRecord, readAutosave } from './autosave';
import { type Answer, DocumentController, type SaveKind } from './document';
import { type EngineProcess, EngineSupervisor } from './engine_supervisor';
import { buildMenuTemplate } from './menu';
import { RecentFiles } from './recent_files';
import { APP_SCHEME, APP_URL, contentType, CONTENT_SECURITY_POLICY, grantsPermission, isTrustedSender, resolveAppFile } from './security';
import { APP_NAME, windowTitle } from './title';
import { DEFAULT_WINDOW_STATE, fitToDisplays, MIN_SIZE, parseWindowState, type WindowState } from './window_state';

// Before any path is asked for: the data folder is named after the app.
app.setName(APP_NAME);

/** Where the bundles are: out/electron/ beside main.cjs; the page: dist/web/ at the app's root. */
const HERE = __dirname;
const RENDERER_ROOT = join(app.getAppPath(), 'dist', 'web');
const DATA = app.getPath('userData');
const FILES = {
  windowState: join(DATA, 'window-state.json'),
  recent: join(DATA, 'recent-files.json'),
  autosave: join(DATA, 'autosave', 'unsaved-project.json'),
};
const PROJECT_FILTERS = [{ name: 'Backprop Studio project', extensions: ['bpstudio', 'json'] }];
const EXPORT_FILTERS: Record<SaveKind, Electron.FileFilter[]> = {
  project: PROJECT_FILTERS,
  weights: [{ name: 'Weights JSON', extensions: ['json'] }],
  pytorch: [{ name: 'Python script', extensions: ['py'] }],
  onnx: [{ name: 'ONNX model', extensions: ['onnx'] }],
};

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true } }]);
app.enableSandbox();

if (!app.requestSingleInstanceLock()) app.quit();

let window: BrowserWindow | null = null;
/** A file named on the command line or by the OS before the page was ready. */
let pendingOpen: string | null = projectArgument(process.argv);
let pageReady = false;
let closing = false;

const recent = new RecentFiles(FILES.recent);
const autosaver = new Autosaver({ file: FILES.autosave, onError: (message) => notify(message) });

function notify(message: string): void {
  window?.webContents.send('app:notice', message);
}

/** The first argument that names a project file (argv holds the executable and, unpackaged, the app path). */
function projectArgument(argv: readonly string[]): string | null {
  return argv.slice(app.isPackaged ? 1 : 2).find((a) => !a.startsWith('-') && isProjectFileName(a)) ?? null;
}

// ---- dialogs -------------------------------------------------------------------------------

const ACTIONS: Record<'close' | 'open' | 'new', string> = { close: 'closing', open: 'opening another project', new: 'starting a new project' };

const documents = new DocumentController({
  async askSave(name, action) {
    if (!window) return 'discard';
    const { response } = await dialog.showMessageBox(window, {
      type: 'warning',
      message: `Save the changes to “${name}” before ${ACTIONS[action]}?`,
      detail: 'Your changes will be lost if you don’t save them.',
      buttons: ['Save', 'Don’t Save', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
    });
    return (['save', 'discard', 'cancel'] as Answer[])[response];
  },
  async pickOpenPath() {
    if (!window) return null;
    const { canceled, filePaths } = await dialog.showOpenDialog(window, { properties: ['openFile'], filters: PROJECT_FILTERS });
    return canceled ? null : (filePaths[0] ?? null);
  },
  async pickSavePath(kind, suggested) {
    if (!window) return null;
    const { canceled, filePath } = await dialog.showSaveDialog(window, { defaultPath: suggested, filters: EXPORT_FILTERS[kind] });
    return canceled || !filePath ? null : filePath;
  },
  pageText,
  showFile(file) {
    window?.webContents.send('file:opened', file);
  },
  showError(message) {
    if (window) void dialog.showMessageBox(window, { type: 'error', message });
  },
  titleChanged(title, path, dirty) {
    if (!window) return;
    window.setTitle(title);
    if (process.platform === 'darwin') {
      window.setRepresentedFilename(path ?? '');
      window.setDocumentEdited(dirty);
    }
  },
}, autosaver, recent);

/** Asks the page for its document's text (it answers on 'app:flushed' with the same number). */
let flushCount = 0;
function pageText(): Promise<string | null> {
  const contents = window?.webContents;
  if (!contents) return Promise.reject(new Error('the window is gone'));
  const nonce = ++flushCount;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      ipcMain.removeListener('app:flushed', listener);
      reject(new Error('the page did not give its document'));
    }, 5000);
    const listener = (event: IpcMainEvent, n: unknown, text: unknown) => {
      if (!trusted(event) || n !== nonce || !(text === null || typeof text === 'string')) return;
      clearTimeout(timer);
      ipcMain.removeListener('app:flushed', listener);
      resolve(text);
    };
    ipcMain.on('app:flushed', listener);
    contents.send('app:flush', nonce);
  });
}

// ---- IPC: every handler checks its sender and its arguments -----------------------------

function trusted(event: IpcMainEvent | IpcMainInvokeEvent): boolean {
  return event.sender === window?.webContents && isTrustedSender(event.senderFrame);
}

const Text = v.pipe(v.string(), v.maxLength(LIMITS.fileBytes));
const Bytes = v.pipe(v.instance(Uint8Array), v.check((bytes) => bytes.length <= LIMITS.fileBytes, 'too large'));
const Kind = v.picklist(['weights', 'pytorch', 'onnx']);

function handle<A extends unknown[]>(channel: string, args: v.GenericSchema<unknown, A>, fn: (...a: A) => Promise<unknown>): void {
  ipcMain.handle(channel, (event, ...raw) => {
    if (!trusted(event)) throw new Error('refused: not the app’s page');
    return fn(...v.parse(args, raw));
  });
}

function registerIpc(): void {
  ipcMain.on('doc:changed', (event, text: unknown) => {
    if (trusted(event) && (text === null || v.is(Text, text))) documents.changed(text);
  });
  handle('doc:save', v.tuple([Text]), (text) => documents.save(text));
  handle('doc:saveAs', v.tuple([Text]), (text) => documents.saveAs(text));
  handle('doc:export', v.tuple([Kind, v.union([Text, Bytes])]), (kind, content) => documents.exportTo(kind, content));
  handle('doc:openDialog', v.tuple([]), () => documents.openDialog());
}

// ---- the engine process ------------------------------------------------------------------

interface Engine extends EngineProcess {
  child: UtilityProcess;
}

const engine = new EngineSupervisor<Engine>({
  spawn() {
    const child = utilityProcess.fork(join(HERE, 'engine.cjs'), [], { serviceName: `${APP_NAME} engine`, stdio: 'inherit' });
    return {
      child,
      kill: () => void child.kill(),
      onExit: (listener) => child.once('exit', listener),
      onHeartbeat: (listener) => child.on('message', (m: { type?: string }) => m?.type === 'heartbeat' && listener()),
    };
  },
  onStart({ child }, restart) {
    // A new channel per process: one end to the engine, the other to the page's preload.
    const { port1, port2 } = new MessageChannelMain();
    child.postMessage({ type: 'connect' }, [port1]);
    window?.webContents.postMessage('engine:port', { restart }, [port2]);
  },
  onGiveUp: (message) => notify(message),
});

// ---- the window --------------------------------------------------------------------------

async function loadWindowState(): Promise<WindowState> {
  const stored = await fs.readFile(FILES.windowState, 'utf8').then(parseWindowState, () => ({ ...DEFAULT_WINDOW_STATE }));
  return fitToDisplays(stored, screen.getAllDisplays().map((d) => d.workArea));
}

function saveWindowState(win: BrowserWindow): void {
  const bounds = win.getNormalBounds();
  const state: WindowState = { ...bounds, maximized: win.isMaximized() };
  void saveAtomically(FILES.windowState, `${JSON.stringify(state)}\n`).catch(() => {});
}

function setMenu(): void {
  const template = buildMenuTemplate(
    { platform: process.platform, recent: recent.list, darkMode: nativeTheme.shouldUseDarkColors, devTools: !app.isPackaged },
    {
      command(command: MenuCommand) {
        if (command === 'new') void documents.newDocument().then((ok) => ok && window?.webContents.send('menu', 'new'));
        else if (command === 'dark-mode' || command === 'light-mode') {
          nativeTheme.themeSource = command === 'dark-mode' ? 'dark' : 'light';
          window?.webContents.send('menu', command);
        } else window?.webContents.send('menu', command);
      },
      open: () => void documents.openDialog(),
      openRecent: (path) => void documents.open(path),
      clearRecent: () => void recent.clear(),
      save: () => void documents.save(),
      saveAs: () => void documents.saveAs(),
      close: () => window?.close(),
      about: () => app.showAboutPanel(),
    },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

async function createWindow(): Promise<void> {
  const state = await loadWindowState();
  const win = new BrowserWindow({
    ...state,
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    show: false,
    title: APP_NAME,
    backgroundColor: nativeTheme.shouldUseDarkColors ? '#1e1e1e' : '#ffffff',
    webPreferences: {
      preload: join(HERE, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  window = win;
  if (state.maximized) win.maximize();
  win.once('ready-to-show', () => win.show());
  win.setTitle(windowTitle(null, false));

  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  const later = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = setTimeout(() => saveWindowState(win), 500);
  };
  win.on('resize', later);
  win.on('move', later);

  // Every page load (the first and any reload) gets a fresh engine and channel.
  win.webContents.on('did-finish-load', () => {
    pageReady = true;
    engine.start();
    void offerRestore();
  });

  win.on('close', (event) => {
    saveWindowState(win);
    if (closing || !documents.dirty) return;
    event.preventDefault();
    void documents.confirmDiscard('close').then((ok) => {
      if (!ok) return;
      closing = true;
      win.close();
    });
  });
  win.on('closed', () => {
    window = null;
    engine.stop();
  });

  await win.loadURL(APP_URL);
}

/**
 * What the previous run's autosave kept, read before the page can report a clean document (which
 * removes the file); offered once, after the page has loaded.
 */
let unsavedFromLastRun: Promise<AutosaveRecord | null> | null = null;

/** After a crash: offer the unsaved work the autosave kept; then open a file given at start. */
async function offerRestore(): Promise<void> {
  if (!unsavedFromLastRun || !window) return;
  const record = await unsavedFromLastRun;
  unsavedFromLastRun = null;
  if (record) {
    const { response } = await dialog.showMessageBox(window, {
      type: 'question',
      message: 'Backprop Studio did not close properly. Restore your unsaved work?',
      detail: `Unsaved changes to ${record.path ?? 'an untitled project'}, autosaved ${new Date(record.savedAt).toLocaleString()}.`,
      buttons: ['Restore', 'Discard'],
      defaultId: 0,
      cancelId: 1,
    });
    if (response === 0) {
      documents.restore(record);
      return;
    }
    await autosaver.discard();
  }
  if (pendingOpen) {
    const path = pendingOpen;
    pendingOpen = null;
    await documents.open(path);
  }
}

/** A file from the OS (double-click, drag onto the dock icon, a second launch). */
function openFromOs(path: string): void {
  if (window && pageReady) {
    if (window.isMinimized()) window.restore();
    window.focus();
    void documents.open(path);
  } else {
    pendingOpen = path;
  }
}

app.on('open-file', (event, path) => {
  event.preventDefault();
  openFromOs(path);
});
app.on('second-instance', (_event, argv) => {
  const path = projectArgument(argv);
  if (path) openFromOs(path);
  else window?.focus();
});

// Nothing but the app's own page, in the app's own window.
app.on('web-contents-created', (_event, contents: WebContents) => {
  contents.on('will-navigate', (event, url) => {
    if (url !== APP_URL) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

// After every window has closed (closing may still be cancelled before that).
app.on('will-quit', () => engine.stop());
app.on('window-all-closed', () => app.quit());

void app.whenReady().then(async () => {
  const appSession = session.defaultSession;
  appSession.setPermissionRequestHandler((_contents, permission, callback, details) => callback(grantsPermission(permission, details.requestingUrl)));
  appSession.setPermissionCheckHandler((_contents, permission, requestingOrigin) => grantsPermission(permission, requestingOrigin));
  protocol.handle(APP_SCHEME, async (request) => {
    const file = resolveAppFile(RENDERER_ROOT, request.url);
    const body = file ? await fs.readFile(file).catch(() => null) : null;
    if (!body) return new Response('Not found', { status: 404 });
    return new Response(body, { headers: { 'content-type': contentType(file as string), 'content-security-policy': CONTENT_SECURITY_POLICY } });
  });
  app.setAboutPanelOptions({ applicationName: APP_NAME, applicationVersion: app.getVersion() });
  unsavedFromLastRun = readAutosave(FILES.autosave);
  await unsavedFromLastRun;
  await recent.load();
  recent.onChange = () => {
    setMenu();
    // The dock's and the jump list's recent items.
    if (recent.list[0]) app.addRecentDocument(recent.list[0]);
    else app.clearRecentDocuments();
  };
  registerIpc();
  setMenu();
  await createWindow();
});
