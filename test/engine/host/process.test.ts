/**
 * The host in its own process, as the desktop app runs it: forked with the utility process's
 * entry file, spoken to with the protocol, killed mid-training and restarted.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import type { Event, EventOf } from '../../../engine/protocol';
import { createEngineClient } from '../../../renderer/host/client';
import { forkedTransport, forkHost } from './fork';
import { exampleDoc } from './helpers';

const children: ChildProcess[] = [];
const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const close of closers.splice(0)) close();
});

/** A forked host and a way to ask it things, replies matched by id. */
async function forked(env: NodeJS.ProcessEnv = {}) {
  const child = forkHost(env);
  children.push(child);
  const events: Event[] = [];
  const listeners = new Set<(e: Event) => void>();
  child.on('message', (m) => {
    events.push(m as Event);
    for (const l of listeners) l(m as Event);
  });
  await new Promise<void>((resolve) => listeners.add((e) => e.type === 'ready' && resolve()));
  let id = 1;
  const request = (message: Record<string, unknown>): Promise<Event> => {
    const requestId = id++;
    return new Promise((resolve) => {
      listeners.add((e) => {
        const answers = e.type === 'error' ? e.requestId : e.type !== 'progress' && 'id' in e ? e.id : undefined;
        if (answers === requestId) resolve(e);
      });
      child.send({ ...message, id: requestId });
    });
  };
  /** Resolves at the next progress message: training is under way. */
  const progressed = () => new Promise<void>((resolve) => listeners.add((e) => e.type === 'progress' && resolve()));
  return { child, events, request, progressed, send: (m: unknown) => child.send(m as object) };
}

describe('the host in a forked process', () => {
  it('answers every command over the process channel', async () => {
    const { request, events } = await forked();
    expect(await request({ type: 'open', project: exampleDoc('seed-tutorial.json') })).toMatchObject({ type: 'opened', problems: [], device: { backend: 'cpu' } });
    expect(await request({ type: 'train', until: 'epoch' })).toMatchObject({ type: 'trained', reason: 'paused', epoch: 1 });
    expect(await request({ type: 'resume' })).toMatchObject({ type: 'trained', reason: 'finished', epoch: 49 });
    expect(events.filter((e) => e.type === 'progress').flatMap((e) => e.records.map((r) => r.epoch))).toEqual(Array.from({ length: 49 }, (_, i) => i + 1));
    const traced = (await request({ type: 'trace', sample: 0, epoch: 1 })) as EventOf<'traced'>;
    expect(traced.trace.parameters.map((p) => p.name)).toEqual(['hidden.weight', 'hidden.bias', 'hidden2.weight', 'hidden2.bias', 'output.weight', 'output.bias']);
    expect(await request({ type: 'setWeights', weights: { 'output.bias': [0, 0, 0] } })).toMatchObject({ type: 'weights', epoch: 49 });
    const exported = (await request({ type: 'export', format: 'weights' })) as EventOf<'exported'>;
    expect(JSON.parse(exported.text as string)['output.bias']).toEqual([0, 0, 0]);
    expect(await request({ type: 'reset' })).toMatchObject({ type: 'weights', epoch: 0 });
    expect(await request({ type: 'pause' })).toMatchObject({ type: 'ok' });
    expect(await request({ type: 'cancel' })).toMatchObject({ type: 'ok' });
  });

  it('cancels mid-training, keeping the epochs done', async () => {
    const { request, events, progressed } = await forked();
    await request({ type: 'open', project: exampleDoc('xor.json') });
    const underway = progressed();
    const training = request({ type: 'train', epochs: 1_000_000 });
    await underway;
    await request({ type: 'cancel' });
    const trained = (await training) as EventOf<'trained'>;
    expect(trained.reason).toBe('cancelled');
    expect(trained.epoch).toBeGreaterThan(0);
    expect(trained.epoch).toBeLessThan(1_000_000);
    const records = events.filter((e) => e.type === 'progress').flatMap((e) => e.records);
    expect(records.map((r) => r.epoch)).toEqual(Array.from({ length: trained.epoch }, (_, i) => i + 1));
  });

  it('answers malformed messages with an error and keeps running', async () => {
    const { request, send, events } = await forked();
    send({ type: 'open' });
    send({ hello: 'world' });
    send([1, 2, 3]);
    send({ type: 'train', id: 5, until: 'forever' });
    expect(await request({ type: 'open', project: exampleDoc('xor.json') })).toMatchObject({ type: 'opened' });
    expect(events.filter((e) => e.type === 'error').map((e) => [e.message, e.requestId])).toEqual([
      ['The request \'open\' lacks "id".', undefined],
      ['A request needs a "type".', undefined],
      ['A request needs a "type".', undefined],
      [expect.stringMatching(/^The request 'train' is malformed at "until"/), 5],
    ]);
  });

  it('streams a 10,000-epoch run without flooding the channel, every epoch arriving once', async () => {
    const { request, events } = await forked();
    await request({ type: 'open', project: exampleDoc('seed-tutorial.json') });
    const started = performance.now();
    const trained = await request({ type: 'train', epochs: 10_000 });
    const seconds = (performance.now() - started) / 1000;
    expect(trained).toMatchObject({ reason: 'finished', epoch: 10_000 });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.flatMap((e) => e.records.map((r) => r.epoch))).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    // At most 60 a second (and one last flush), however fast the epochs come.
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds * 60) + 1);
    expect(progress.length).toBeGreaterThan(1);
  });
});

describe('a crash of the engine process', () => {
  it('costs nothing: killed mid-training, it is restarted and gets the model, weights and history back', async () => {
    const transport = forkedTransport();
    const client = createEngineClient(transport);
    closers.push(() => client.close());
    const notices: string[] = [];
    client.onEvent((e) => notices.push(e.message));
    await client.open(exampleDoc('xor.json'));
    let last: EventOf<'progress'> | undefined;
    let killed = false;
    const trained = await client.train({ epochs: 1_000_000 }, (p) => {
      last = p;
      if (!killed && p.records.at(-1) && (p.records.at(-1)?.epoch ?? 0) > 100) {
        killed = true;
        transport.supervisor.current?.child.kill('SIGKILL');
      }
    });
    const seen = last?.records.at(-1)?.epoch ?? 0;
    expect(seen).toBeGreaterThan(100);
    expect(trained).toMatchObject({ type: 'trained', reason: 'failed', epoch: seen });
    expect(trained.message).toMatch(/^The engine stopped and was restarted/);
    // The replacement has the model as it was at the last progress message.
    const project = JSON.parse(await client.export('project'));
    expect(notices).toEqual(['The engine stopped and was restarted; your model and its training so far were restored (the optimizer starts afresh).']);
    expect(project.history.map((r: { epoch: number }) => r.epoch)).toEqual(Array.from({ length: seen }, (_, i) => i + 1));
    const weights = JSON.parse(await client.export('weights'));
    for (const [name, value] of Object.entries(last?.weights ?? {})) {
      expect((value as number[][]).flat().map(Math.fround), name).toEqual((weights[name] as number[][]).flat().map(Math.fround));
    }
    // Training goes on from there, epochs counting on.
    const more: number[] = [];
    expect(await client.train({ epochs: 3 }, (p) => more.push(...p.records.map((r) => r.epoch)))).toMatchObject({ reason: 'finished', epoch: seen + 3 });
    expect(more).toEqual([seen + 1, seen + 2, seen + 3]);
  });
});

describe('the host in a forked process, on WebGPU', () => {
  /** The seed example asking for `backend`, trained to the end; the opened event and every record. */
  async function trainSeed(backend: string, env: NodeJS.ProcessEnv) {
    const { request, events, progressed } = await forked(env);
    const doc = exampleDoc('seed-tutorial.json');
    doc.training = { ...(doc.training as object), backend };
    const opened = (await request({ type: 'open', project: doc })) as EventOf<'opened'>;
    const trained = await request({ type: 'train' });
    const records = events.flatMap((e) => (e.type === 'progress' ? e.records : []));
    const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    return { request, events, progressed, opened, trained, records, notices };
  }

  it('trains where the project asks, and reports the device', async (test) => {
    const gpu = await trainSeed('webgpu', { WEBGPU_BACKEND: 'opengles' });
    if (gpu.notices.length > 0 && !process.env.CI) return test.skip(gpu.notices[0]);
    expect(gpu.notices).toEqual([]);
    expect(gpu.opened.device).toEqual({ backend: 'webgpu', adapter: expect.any(String) });
    expect(gpu.trained).toMatchObject({ type: 'trained', reason: 'finished', epoch: 49 });
    const cpu = await trainSeed('cpu', {});
    expect(cpu.opened.device).toEqual({ backend: 'cpu' });
    expect(gpu.records.map((r) => r.epoch)).toEqual(cpu.records.map((r) => r.epoch));
    gpu.records.forEach((r, i) => {
      const want = [cpu.records[i].loss, ...(cpu.records[i].outputs as number[][]).flat()];
      [r.loss, ...(r.outputs as number[][]).flat()].forEach((v, j) => expect(Math.abs(v - want[j]), `epoch ${r.epoch} [${j}]`).toBeLessThanOrEqual(1e-5));
    });
    // Exporting, tracing (now and an earlier epoch) and setting weights read the GPU's values back.
    const exported = JSON.parse(((await gpu.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text as string);
    const traceNow = ((await gpu.request({ type: 'trace', sample: 0 })) as EventOf<'traced'>).trace;
    for (const p of traceNow.parameters) expect((p.value as number[]).flat(), p.name).toEqual((exported[p.name] as number[]).flat().map(Math.fround));
    // An earlier epoch's trace: the CPU's numbers up to float32 rounding (the weights of later epochs drift further).
    for (const epoch of [10]) {
      const request = { type: 'trace', sample: 0, epoch };
      const onGpu = ((await gpu.request(request)) as EventOf<'traced'>).trace;
      const onCpu = ((await cpu.request(request)) as EventOf<'traced'>).trace;
      expect(onGpu.epoch).toBe(epoch);
      expect(onGpu.nodes.map((n) => n.gradFn)).toEqual(onCpu.nodes.map((n) => n.gradFn));
      expect(Math.abs(onGpu.loss - onCpu.loss)).toBeLessThanOrEqual(1e-5);
      const flat = (t: typeof onGpu) => t.parameters.flatMap((p) => [p.value, p.grad, p.update?.after ?? []].flat(3) as number[]);
      flat(onCpu).forEach((want, i) => expect(Math.abs(flat(onGpu)[i] - want), `trace at epoch ${epoch} [${i}]`).toBeLessThanOrEqual(1e-4));
    }
    const set = (await gpu.request({ type: 'setWeights', weights: { 'output.bias': [0.5, -0.25, 0] } })) as EventOf<'weights'>;
    expect(set).toMatchObject({ type: 'weights', epoch: 49, weights: { 'output.bias': [0.5, -0.25, 0] } });
    const traced = ((await gpu.request({ type: 'trace', sample: 0 })) as EventOf<'traced'>).trace;
    expect(traced.parameters.find((p) => p.name === 'output.bias')?.value).toEqual([0.5, -0.25, 0]);
    expect(JSON.parse(((await gpu.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text as string)['output.bias']).toEqual([0.5, -0.25, 0]);
    expect(await gpu.request({ type: 'reset' })).toMatchObject({ type: 'weights', epoch: 0 });
    // Weights asked for with the progress are read back at their epoch's end: they are what a trace of that epoch holds.
    expect(await gpu.request({ type: 'train', until: 'epoch', snapshots: 1, weights: false })).toMatchObject({ type: 'trained', reason: 'paused', epoch: 1 });
    const snapshot = gpu.events.flatMap((e) => (e.type === 'progress' ? e.snapshots ?? [] : [])).at(-1);
    expect(snapshot?.epoch).toBe(1);
    const atOne = ((await gpu.request({ type: 'trace', sample: 0, epoch: 1 })) as EventOf<'traced'>).trace;
    expect(Object.fromEntries(atOne.parameters.map((p) => [p.name, p.value]))).toEqual(snapshot?.weights);
    // A pause that arrives while a step runs on the GPU waits for it: no epoch goes unreported.
    const underway = gpu.progressed();
    const running = gpu.request({ type: 'train', epochs: 100_000 });
    await underway;
    expect(await gpu.request({ type: 'pause' })).toMatchObject({ type: 'ok' });
    const paused = (await running) as EventOf<'trained'>;
    expect(paused).toMatchObject({ type: 'trained', reason: 'paused' });
    const after = gpu.events.slice(gpu.events.findIndex((e) => e.type === 'weights'));
    expect(after.flatMap((e) => (e.type === 'progress' ? e.records.map((r) => r.epoch) : []))).toEqual(Array.from({ length: paused.epoch }, (_, i) => i + 1));
  }, 60_000);

  it.runIf(process.platform === 'linux')('trains on the CPU, saying so once, when there is no GPU', async () => {
    // Dawn has no Metal backend on Linux: WebGPU cannot open.
    const run = await trainSeed('webgpu', { WEBGPU_BACKEND: 'metal' });
    expect(run.opened.device).toEqual({ backend: 'cpu' });
    expect(run.notices).toEqual([expect.stringMatching(/^WebGPU is not available \(.*\); training on the CPU\.$/)]);
    expect(run.trained).toMatchObject({ type: 'trained', reason: 'finished', epoch: 49 });
  }, 60_000);
});
