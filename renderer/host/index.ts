/**
 * The engine for the app: in the desktop window through the preload's engine channel, in a
 * browser through a Web Worker running the same host. Both give the same EngineClient.
 */
import type { DesktopApi } from '../../electron/api';
import type { EngineClient } from '../../engine/protocol';
import { createDesktopClient } from './desktop';
import { createWorkerClient } from './worker';

export { EngineError } from './client';
export type { EngineClient } from '../../engine/protocol';

/** The preload's API in the desktop app; undefined in a browser. */
export function desktopApi(): DesktopApi | undefined {
  return (globalThis as { backprop?: DesktopApi }).backprop;
}

export function connectEngine(): EngineClient {
  const api = desktopApi();
  if (api) return createDesktopClient(api.engine);
  // The URL form lets the bundler (vite) build the Worker's own bundle.
  return createWorkerClient(() => new Worker(new URL('../../engine/host/worker_entry.ts', import.meta.url), { type: 'module' }));
}
