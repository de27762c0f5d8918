/**
 * The preload script: the page's only way out of its sandbox. It exposes one object,
 * `window.backprop` (DesktopApi, electron/api.ts), through contextBridge: one method per
 * operation, each sending one fixed IPC message, and the engine channel — the MessagePort main
 * hands over for each engine process, kept here so the page never holds Electron objects.
 * Bundled to out/electron/preload.cjs (a sandboxed preload is one CommonJS file).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { Request } from '../engine/protocol';
import { type DesktopApi, type ExportKind, MENU_COMMANDS, type MenuCommand, type OpenedFile } from './api';

type Unsubscribe = () => void;

function listen<A extends unknown[]>(channel: string, accept: (...args: unknown[]) => A | null, listener: (...args: A) => void): Unsubscribe {
  const handler = (_event: IpcRendererEvent, ...args: unknown[]) => {
    const accepted = accept(...args);
    if (accepted) listener(...accepted);
  };
  ipcRenderer.on(channel, handler);
  return () => void ipcRenderer.removeListener(channel, handler);
}

// ---- the engine channel ----

let port: IpcRendererEvent['ports'][number] | null = null;
/** Requests made before main handed over the first port. */
let queue: Request[] = [];
const messageListeners = new Set<(message: unknown) => void>();
const restartListeners = new Set<() => void>();

ipcRenderer.on('engine:port', (event, info: { restart?: boolean } | undefined) => {
  const [next] = event.ports;
  if (!next) return;
  port?.close();
  port = next;
  port.onmessage = (e: { data: unknown }) => {
    for (const listener of messageListeners) listener(e.data);
  };
  for (const request of queue) port.postMessage(request);
  queue = [];
  if (info?.restart) for (const listener of restartListeners) listener();
});

function subscribe<T>(set: Set<T>, listener: T): Unsubscribe {
  set.add(listener);
  return () => void set.delete(listener);
}

// ---- the API ----

const isCommand = (c: unknown): c is MenuCommand => (MENU_COMMANDS as readonly unknown[]).includes(c);
const isFile = (f: unknown): f is OpenedFile =>
  typeof f === 'object' && f !== null && typeof (f as OpenedFile).text === 'string' && ((f as OpenedFile).path === null || typeof (f as OpenedFile).path === 'string');

const api: DesktopApi = {
  platform: process.platform,
  documentChanged: (text: string | null) => ipcRenderer.send('doc:changed', text),
  save: (text: string) => ipcRenderer.invoke('doc:save', text),
  saveAs: (text: string) => ipcRenderer.invoke('doc:saveAs', text),
  saveExport: (kind: ExportKind, content: string | Uint8Array) => ipcRenderer.invoke('doc:export', kind, content),
  openDialog: () => ipcRenderer.invoke('doc:openDialog'),
  onFileOpened: (listener) => listen('file:opened', (file) => (isFile(file) ? [file] as [OpenedFile] : null), listener),
  onMenu: (listener) => listen('menu', (command) => (isCommand(command) ? [command] as [MenuCommand] : null), listener),
  onNotice: (listener) => listen('app:notice', (message) => (typeof message === 'string' ? [message] as [string] : null), listener),
  onFlush: (listener) => listen('app:flush', (nonce) => [nonce] as [unknown], (nonce) => ipcRenderer.send('app:flushed', nonce, listener())),
  engine: {
    post(message: Request) {
      if (port) port.postMessage(message);
      else queue.push(message);
    },
    onMessage: (listener) => subscribe(messageListeners, listener),
    onRestart: (listener) => subscribe(restartListeners, listener),
  },
};

contextBridge.exposeInMainWorld('backprop', api);
