/**
 * Keeps one engine process alive: starts it, restarts it when it exits unexpectedly or stops
 * sending heartbeats (a hang), and gives up after too many crashes in a row rather than
 * looping. Plain Node: main passes a spawn function over Electron's utilityProcess; the tests
 * pass one over child_process.fork.
 */
import { ENGINE_SILENCE_MS } from '../engine/protocol';

export interface EngineProcess {
  kill(): void;
  /** Called once when the process has ended, whatever the reason. */
  onExit(listener: (code: number | null) => void): void;
  /** Called on each heartbeat the process sends. */
  onHeartbeat(listener: () => void): void;
}

export interface SupervisorOptions<P extends EngineProcess> {
  spawn(): P;
  /** A process was started; `restart` is true after a crash or a hang (say so to the user once). */
  onStart(process: P, restart: boolean): void;
  /** Crashes came too fast; the engine stays down. `message` is one sentence for the user. */
  onGiveUp(message: string): void;
  /** A process silent this long is taken for hung. */
  silenceMs?: number;
  /** More than this many restarts within restartWindowMs: give up. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

export class EngineSupervisor<P extends EngineProcess> {
  private process: P | null = null;
  private lastBeat = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private restarts: number[] = [];
  private readonly silenceMs: number;

  constructor(private readonly options: SupervisorOptions<P>) {
    this.silenceMs = options.silenceMs ?? ENGINE_SILENCE_MS;
  }

  get current(): P | null {
    return this.process;
  }

  /** Starts the engine, replacing a running one (e.g. for a reloaded page) without counting it as a crash. */
  start(): P {
    this.stopProcess();
    return this.launch(false);
  }

  /** Ends the engine for good (the app quits). */
  stop(): void {
    this.stopProcess();
  }

  private stopProcess(): void {
    const old = this.process;
    this.process = null; // first, so its exit is not taken for a crash
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    old?.kill();
  }

  private launch(restart: boolean): P {
    const child = this.options.spawn();
    this.process = child;
    this.lastBeat = Date.now();
    child.onHeartbeat(() => {
      if (this.process === child) this.lastBeat = Date.now();
    });
    child.onExit(() => {
      if (this.process === child) this.crashed();
    });
    this.watchdog = setInterval(() => {
      if (this.process === child && Date.now() - this.lastBeat > this.silenceMs) this.crashed();
    }, Math.min(1000, this.silenceMs / 2));
    this.watchdog.unref?.();
    this.options.onStart(child, restart);
    return child;
  }

  private crashed(): void {
    this.stopProcess();
    const now = Date.now();
    const windowMs = this.options.restartWindowMs ?? 60_000;
    this.restarts = [...this.restarts.filter((t) => now - t < windowMs), now];
    if (this.restarts.length > (this.options.maxRestarts ?? 5)) {
      this.options.onGiveUp('The engine keeps stopping, so it was not restarted again; save your work and restart Backprop Studio.');
      return;
    }
    this.launch(true);
  }
}
