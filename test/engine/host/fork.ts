/**
 * The host in a forked Node process, as main runs it in a utility process: the same entry file,
 * the same protocol, structured-clone messages. `forkedTransport` puts the supervisor that main
 * uses in front, so a killed process is restarted and the client restores the model.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { EngineSupervisor, type EngineProcess } from '../../../electron/engine_supervisor';
import type { Request } from '../../../engine/protocol';
import type { Transport } from '../../../renderer/host/client';

const ENTRY = fileURLToPath(new URL('../../../engine/host/process_entry.ts', import.meta.url));

/** `env`: more environment for the host (WEBGPU_BACKEND, say). */
export function forkHost(env: NodeJS.ProcessEnv = {}): ChildProcess {
  return fork(ENTRY, [], { execArgv: ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
}

interface Forked extends EngineProcess {
  child: ChildProcess;
}

export interface ForkedTransport extends Transport {
  supervisor: EngineSupervisor<Forked>;
  /** Resolves when the current process has said it is ready. */
  ready(): Promise<void>;
}

export function forkedTransport(): ForkedTransport {
  let onMessage: (data: unknown) => void = () => {};
  let onRestart: () => void = () => {};
  // A forked process hears nothing before it listens: requests wait for its 'ready'.
  let live: { child: ChildProcess; ready: boolean; queue: Request[]; isReady: Promise<void> } | null = null;
  const supervisor = new EngineSupervisor<Forked>({
    spawn() {
      const child = forkHost();
      return { child, kill: () => child.kill('SIGKILL'), onExit: (l) => child.once('exit', l), onHeartbeat: () => {} };
    },
    onStart({ child }, restart) {
      let resolve = () => {};
      const entry = { child, ready: false, queue: [] as Request[], isReady: new Promise<void>((r) => (resolve = r)) };
      live = entry;
      child.on('message', (message) => {
        if ((message as { type?: string }).type === 'ready') {
          entry.ready = true;
          for (const request of entry.queue) child.send(request);
          resolve();
        }
        if (live === entry) onMessage(message);
      });
      if (restart) onRestart();
    },
    onGiveUp: (message) => {
      throw new Error(message);
    },
    silenceMs: Number.POSITIVE_INFINITY, // a forked Node process sends no heartbeats
  });
  return {
    supervisor,
    ready: () => live?.isReady ?? Promise.resolve(),
    post(message) {
      if (live?.ready) live.child.send(message);
      else live?.queue.push(message);
    },
    listen(message, restart) {
      onMessage = message;
      onRestart = restart;
      supervisor.start();
    },
    close: () => supervisor.stop(),
  };
}
