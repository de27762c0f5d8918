/**
 * The engine client in browser mode: the host runs in a Web Worker. A Worker that fails (an
 * uncaught error, a message it cannot read) is replaced by a new one, and the client restores
 * the model, as the desktop app does when its engine process crashes.
 */
import type { EngineClient } from '../../engine/protocol';
import { createEngineClient } from './client';

/** Makes a Worker running engine/host/worker_entry.ts; see connectEngine for the bundler-friendly one. */
export type WorkerFactory = () => Worker;

export function createWorkerClient(makeWorker: WorkerFactory): EngineClient {
  let worker: Worker | null = null;
  let onMessage: (data: unknown) => void = () => {};
  let onRestart: () => void = () => {};

  function start(): void {
    const w = makeWorker();
    worker = w;
    w.onmessage = (e) => onMessage(e.data);
    // The host answers malformed requests itself; errors that reach here mean the Worker is broken.
    w.onerror = (e) => {
      e.preventDefault();
      replace(w);
    };
    w.onmessageerror = () => replace(w);
  }

  function replace(broken: Worker): void {
    if (worker !== broken) return;
    broken.terminate();
    start();
    onRestart();
  }

  return createEngineClient({
    post(message) {
      worker?.postMessage(message);
    },
    listen(message, restart) {
      onMessage = message;
      onRestart = restart;
      start();
    },
    close() {
      worker?.terminate();
      worker = null;
    },
  });
}
