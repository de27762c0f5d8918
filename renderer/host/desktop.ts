/**
 * The engine client on the desktop: requests go through the preload's engine channel, a
 * MessagePort to the Electron utility process that runs the host. Main restarts that process
 * after a crash; the channel reports it and the client restores the model.
 */
import type { EngineChannel } from '../../electron/api';
import type { EngineClient } from '../../engine/protocol';
import { createEngineClient } from './client';

export function createDesktopClient(channel: EngineChannel): EngineClient {
  let unsubscribe: (() => void)[] = [];
  return createEngineClient({
    post: (message) => channel.post(message),
    listen(onMessage, onRestart) {
      unsubscribe = [channel.onMessage(onMessage), channel.onRestart(onRestart)];
    },
    close() {
      for (const stop of unsubscribe) stop();
    },
  });
}
