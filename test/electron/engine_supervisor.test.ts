/** The engine process's keeper, with real child processes standing in for utility processes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { type EngineProcess, EngineSupervisor } from '../../electron/engine_supervisor';

interface Child extends EngineProcess {
  child: ChildProcess;
}

/** A Node process that beats (prints a line) every `beatMs`, or never. */
function node(beatMs: number | null): Child {
  const script = beatMs === null ? 'setInterval(() => {}, 1000)' : `setInterval(() => console.log('beat'), ${beatMs})`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  return {
    child,
    kill: () => void child.kill('SIGKILL'),
    onExit: (listener) => child.once('exit', listener),
    onHeartbeat: (listener) => child.stdout?.on('data', () => listener()),
  };
}

const supervisors: EngineSupervisor<Child>[] = [];
afterEach(() => {
  for (const s of supervisors.splice(0)) s.stop();
});

function supervise(spawnChild: () => Child, options: { silenceMs?: number; maxRestarts?: number } = {}) {
  const starts: boolean[] = [];
  const gaveUp: string[] = [];
  const supervisor = new EngineSupervisor<Child>({ spawn: spawnChild, onStart: (_p, restart) => starts.push(restart), onGiveUp: (m) => gaveUp.push(m), ...options });
  supervisors.push(supervisor);
  return { supervisor, starts, gaveUp };
}

const until = async (condition: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('the engine supervisor', () => {
  it('restarts a process that crashes, once per crash, saying it is a restart', async () => {
    const { supervisor, starts } = supervise(() => node(100));
    const first = supervisor.start();
    expect(starts).toEqual([false]);
    first.child.kill('SIGKILL');
    await until(() => starts.length === 2);
    expect(starts).toEqual([false, true]);
    expect(supervisor.current).not.toBe(first);
  });

  it('replaces a process on request without calling it a crash', async () => {
    const { supervisor, starts } = supervise(() => node(100));
    const first = supervisor.start();
    const exited = new Promise((r) => first.child.once('exit', r));
    supervisor.start();
    await exited;
    expect(first.child.killed).toBe(true);
    expect(starts).toEqual([false, false]);
  });

  it('kills and restarts a process that stops answering', async () => {
    const { supervisor, starts } = supervise(() => node(null), { silenceMs: 300 });
    const hung = supervisor.start();
    await until(() => starts.length === 2);
    expect(hung.child.killed).toBe(true);
    expect(starts).toEqual([false, true]);
  });

  it('keeps a beating process', async () => {
    const { supervisor, starts } = supervise(() => node(50), { silenceMs: 300 });
    const beating = supervisor.start();
    // Twenty beats span three times the silence that would count as a hang.
    let beats = 0;
    beating.child.stdout?.on('data', (chunk: Buffer) => { beats += chunk.toString().split('beat').length - 1; });
    await until(() => beats >= 20);
    expect(starts).toEqual([false]);
    expect(supervisor.current).toBe(beating);
  });

  it('gives up, in one sentence, when crashes come too fast', async () => {
    const { supervisor, gaveUp } = supervise(() => {
      const c = node(100);
      setTimeout(() => c.child.kill('SIGKILL'), 10);
      return c;
    }, { maxRestarts: 2 });
    supervisor.start();
    await until(() => gaveUp.length === 1);
    expect(gaveUp).toEqual(['The engine keeps stopping, so it was not restarted again; save your work and restart Backprop Studio.']);
    expect(supervisor.current).toBeNull();
  });
});
