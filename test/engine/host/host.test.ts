import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EventOf, Trace } from '../../../engine/protocol';
import { exampleDoc, harness } from './helpers';

type Opened = EventOf<'opened'>;
type Trained = EventOf<'trained'>;

describe('the engine host, message by message', () => {
  it('says it is ready, opens a project and summarises it', async () => {
    const h = harness();
    expect(h.events[0]).toEqual({ type: 'ready' });
    const opened = (await h.request({ type: 'open', project: exampleDoc('xor.json') })) as Opened;
    expect(opened.type).toBe('opened');
    expect(opened.problems).toEqual([]);
    expect(opened.device).toEqual({ backend: 'cpu' });
    expect(opened.summary.parameters.map((p) => `${p.name} ${p.shape.join('x')}`)).toEqual(['hidden.weight 4x2', 'hidden.bias 4', 'out.weight 1x4', 'out.bias 1']);
    expect(opened.summary.nodes.find((n) => n.id === 'hidden')).toMatchObject({ type: 'Linear', shape: ['N', 4] });
  });

  it('reports a broken project as problems, with what it could read of the nodes', async () => {
    const h = harness();
    const doc = exampleDoc('xor.json');
    doc.nodes[1].params.in_features = 'two';
    const opened = (await h.request({ type: 'open', project: doc })) as Opened;
    expect(opened.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^nodes\[1\]\.params\.in_features \(node 'hidden'\) must be/)]);
    expect(opened.summary.nodes.map((n) => n.id)).toContain('hidden');
    expect(opened.summary.parameters).toEqual([]);
    const refused = await h.request({ type: 'train' });
    expect(refused).toMatchObject({ type: 'error', message: expect.stringMatching(/in_features/) });
    expect(await h.request({ type: 'open' })).toMatchObject({ type: 'error', message: 'The request \'open\' lacks "project".' });
    const notAProject = (await h.request({ type: 'open', project: [1, 2] })) as Opened;
    expect(notAProject.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^This is not a Backprop Studio project/)]);
  });

  it('trains every epoch of the project, streaming every record once, in order, with weights', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const id = h.nextId();
    const trained = (await h.request({ type: 'train' })) as Trained;
    expect(trained).toEqual({ type: 'trained', id, reason: 'finished', epoch: 300 });
    const progress = h.progressOf(id);
    expect(progress.flatMap((p) => p.records.map((r) => r.epoch))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(progress.at(-1)?.weights).toHaveProperty('hidden.weight');
    // More epochs go on from there; epochs count on.
    const more = h.nextId();
    expect(await h.request({ type: 'train', epochs: 5, weights: false })).toMatchObject({ reason: 'finished', epoch: 305 });
    expect(h.progressOf(more).flatMap((p) => p.records.map((r) => r.epoch))).toEqual([301, 302, 303, 304, 305]);
    expect(h.progressOf(more).every((p) => p.weights === undefined)).toBe(true);
  });

  it('steps one epoch or one batch at a time, and resumes', async () => {
    const h = harness();
    const doc = exampleDoc('iris.json'); // 150 samples in batches of 16: 10 steps an epoch
    await h.request({ type: 'open', project: doc });
    const first = h.nextId();
    expect(await h.request({ type: 'train', until: 'batch' })).toMatchObject({ reason: 'paused', epoch: 0 });
    expect(h.progressOf(first)).toEqual([expect.objectContaining({ records: [], batch: 1 })]);
    // Each step batch is exactly one optimizer step: the batch count goes 1, then 2, and the weights move.
    const second = h.nextId();
    expect(await h.request({ type: 'resume', until: 'batch' })).toMatchObject({ reason: 'paused', epoch: 0 });
    expect(h.progressOf(second)).toEqual([expect.objectContaining({ records: [], batch: 2 })]);
    expect(h.progressOf(second)[0].weights).not.toEqual(h.progressOf(first)[0].weights);
    expect(await h.request({ type: 'resume', until: 'epoch' })).toMatchObject({ reason: 'paused', epoch: 1 });
    const rest = h.nextId();
    expect(await h.request({ type: 'resume' })).toMatchObject({ reason: 'finished', epoch: 100 });
    expect(h.progressOf(rest).flatMap((p) => p.records.map((r) => r.epoch))).toEqual(Array.from({ length: 99 }, (_, i) => i + 2));
    expect(await h.request({ type: 'resume' })).toMatchObject({ type: 'error', message: 'Nothing is paused; train to start.' });
  });

  it('sends the weights after every n-th epoch with the progress when asked, each once', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const id = h.nextId();
    await h.request({ type: 'train', epochs: 40, snapshots: 8, weights: false });
    const progress = h.progressOf(id);
    const snapshots = progress.flatMap((p) => p.snapshots ?? []);
    expect(snapshots.map((s) => s.epoch)).toEqual([8, 16, 24, 32, 40]);
    // Each comes with its epoch's record, and is the weights the host traces for that epoch.
    for (const p of progress) for (const s of p.snapshots ?? []) expect(p.records.map((r) => r.epoch)).toContain(s.epoch);
    const at16 = ((await h.request({ type: 'trace', sample: 0, epoch: 16 })) as EventOf<'traced'>).trace;
    expect(Object.fromEntries(at16.parameters.map((p) => [p.name, p.value]))).toEqual(snapshots[1].weights);
    // Stepping on with resume keeps asking for them.
    await h.request({ type: 'train', epochs: 2, until: 'epoch', snapshots: 1 });
    const more = h.nextId();
    await h.request({ type: 'resume', until: 'epoch' });
    expect(h.progressOf(more).flatMap((p) => p.snapshots ?? []).map((s) => s.epoch)).toEqual([42]);
  });

  it('pauses and cancels mid-training, keeping what was trained', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const id = h.nextId();
    const training = h.request({ type: 'train', epochs: 1_000_000 });
    await h.progressed(id);
    expect(await h.request({ type: 'pause' })).toMatchObject({ type: 'ok' });
    const paused = (await training) as Trained;
    expect(paused.reason).toBe('paused');
    expect(paused.epoch).toBeGreaterThan(0);
    // The trained message comes before the pause's ok, with the last records flushed.
    const order = h.events.filter((e) => e.type === 'trained' || e.type === 'ok').map((e) => e.type);
    expect(order).toEqual(['trained', 'ok']);
    expect(h.progressOf(id).flatMap((p) => p.records).at(-1)?.epoch).toBe(paused.epoch);
    const again = h.nextId();
    const resumed = h.request({ type: 'resume' });
    await h.progressed(again);
    expect(await h.request({ type: 'cancel' })).toMatchObject({ type: 'ok' });
    const cancelled = (await resumed) as Trained;
    expect(cancelled.reason).toBe('cancelled');
    expect(h.progressOf(again)[0].records[0].epoch).toBe(paused.epoch + 1);
    expect(await h.request({ type: 'resume' })).toMatchObject({ type: 'error' });
    // The weights trained so far are kept: exporting gives them, with every epoch's record.
    const exported = (await h.request({ type: 'export', format: 'project' })) as EventOf<'exported'>;
    expect(JSON.parse(exported.text as string).history).toHaveLength(cancelled.epoch);
  });

  it('exports a PyTorch script with the current weights', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    await h.request({ type: 'setWeights', weights: { 'out.bias': [0.25] } });
    const exported = (await h.request({ type: 'export', format: 'pytorch' })) as EventOf<'exported'>;
    expect(exported.format).toBe('pytorch');
    expect(exported.text).toContain('class Model(nn.Module):');
    expect(exported.text).toContain('"out.bias": [0.25]');
  });

  it('refuses a second training while one runs, and setting weights until paused', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const training = h.request({ type: 'train', epochs: 1_000_000 });
    expect(await h.request({ type: 'train' })).toMatchObject({ type: 'error', message: 'Training is already running; pause or cancel it first.' });
    expect(await h.request({ type: 'setWeights', weights: { 'out.bias': [0] } })).toMatchObject({ type: 'error', message: 'Pause training before setting weights.' });
    await h.request({ type: 'pause' });
    await training;
    expect(await h.request({ type: 'setWeights', weights: { 'out.bias': [0.25] } })).toMatchObject({ type: 'weights', weights: { 'out.bias': [0.25] } });
  });

  it('sets weights, reporting every bad name and shape at once and changing nothing then', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const exportWeights = async () => JSON.parse(((await h.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text as string);
    const initial = await exportWeights();
    const bad = (await h.request({ type: 'setWeights', weights: { 'hidden.bias': [9, 9, 9, 9], 'out.bias': [1, 2], nope: [1] } })) as EventOf<'error'>;
    expect(bad.problems?.map((p) => p.message)).toEqual([
      '"out.bias" has shape [2] in the weights file, but the model\'s is [1].',
      expect.stringMatching(/^The weights file has "nope", which the model does not have/),
    ]);
    expect(await exportWeights()).toEqual(initial);
    const hidden = [[1, 2], [3, 4], [5, 6], [7, 8]];
    const set = (await h.request({ type: 'setWeights', weights: { 'hidden.weight': hidden } })) as EventOf<'weights'>;
    expect(set.weights['hidden.weight']).toEqual(hidden);
    // Events carry the float32 values themselves; weights JSON their shortest decimals.
    expect(set.weights['out.weight']).toEqual((initial['out.weight'] as number[][]).map((row) => row.map(Math.fround)));
    expect(await exportWeights()).toEqual({ ...initial, 'hidden.weight': hidden });
  });

  it('resets to the project\'s initial weights', async () => {
    const h = harness();
    const opened = exampleDoc('xor.json');
    await h.request({ type: 'open', project: opened });
    const initial = ((await h.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text;
    await h.request({ type: 'train', epochs: 20 });
    expect(((await h.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text).not.toBe(initial);
    expect(await h.request({ type: 'reset' })).toMatchObject({ type: 'weights', epoch: 0 });
    expect(((await h.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text).toBe(initial);
    // And training from there gives the same numbers as the first time.
    const again = h.nextId();
    await h.request({ type: 'train', epochs: 3 });
    const firstRun = h.events.filter((e) => e.type === 'progress').flatMap((e) => e.records).slice(0, 3);
    expect(h.progressOf(again).flatMap((p) => p.records)).toEqual(firstRun);
  });

  it('exports the project with the trained weights and history, and weights JSON', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('seed-tutorial.json') });
    await h.request({ type: 'train' });
    const project = JSON.parse(((await h.request({ type: 'export', format: 'project' })) as EventOf<'exported'>).text as string);
    expect(project.history).toHaveLength(49);
    const weights = JSON.parse(((await h.request({ type: 'export', format: 'weights' })) as EventOf<'exported'>).text as string);
    expect(project.nodes.find((n: { id: string }) => n.id === 'hidden').tensors.weight).toEqual(weights['hidden.weight']);
  });

  it('answers malformed messages with an error and keeps working', async () => {
    const h = harness();
    for (const bad of [null, 'open', 42, {}, { type: 'open' }, { type: 'fly', id: 7 }, { type: 'train', id: -1 }, { type: 'train', id: 3, epochs: 'many' }, { type: 'trace', id: 4, sample: 0, extra: true }]) {
      h.host.receive(bad);
    }
    const errors = h.events.filter((e) => e.type === 'error');
    expect(errors.map((e) => e.message)).toEqual([
      'A request needs a "type".',
      'A request needs a "type".',
      'A request needs a "type".',
      'A request needs a "type".',
      'The request \'open\' lacks "id".',
      'Unknown request type \'fly\'.',
      expect.stringMatching(/^The request 'train' is malformed at "id"/),
      expect.stringMatching(/^The request 'train' is malformed at "epochs"/),
      'The request \'trace\' has an unknown field "extra".',
    ]);
    expect(errors.map((e) => e.requestId)).toEqual([undefined, undefined, undefined, undefined, undefined, 7, undefined, 3, 4]);
    expect(await h.request({ type: 'open', project: exampleDoc('xor.json') })).toMatchObject({ type: 'opened', problems: [] });
    expect(await h.request({ type: 'trace', sample: 0 })).toMatchObject({ type: 'traced' });
  });

  it('refuses what needs a project before one is open, in one sentence', async () => {
    const h = harness();
    expect(await h.request({ type: 'export', format: 'weights' })).toEqual({ type: 'error', requestId: 1, message: 'No project is open; open one first.' });
    expect(await h.request({ type: 'pause' })).toMatchObject({ type: 'ok' });
  });
});

describe('trace: one sample, every number', () => {
  it('names the backward function of every node\'s output as PyTorch does', async () => {
    // test/engine/host/grad_fns.py: the same forward passes in PyTorch.
    const pytorch: Record<string, Record<string, string | null>> = JSON.parse(readFileSync(new URL('grad_fns.json', import.meta.url), 'utf8')).names;
    for (const [example, names] of Object.entries(pytorch)) {
      const h = harness();
      await h.request({ type: 'open', project: exampleDoc(example) });
      const trace = ((await h.request({ type: 'trace', sample: 0 })) as EventOf<'traced'>).trace;
      expect(Object.fromEntries(trace.nodes.map((n) => [n.id, n.gradFn ?? null])), example).toEqual(names);
    }
  });

  const traceOf = async (doc: unknown, sample: number, setup?: (h: ReturnType<typeof harness>) => Promise<unknown>): Promise<Trace> => {
    const h = harness();
    await h.request({ type: 'open', project: doc });
    await setup?.(h);
    return ((await h.request({ type: 'trace', sample })) as EventOf<'traced'>).trace;
  };

  it('shows the seed network\'s forward and backward pass and the Adam step it would take', async () => {
    const trace = await traceOf(exampleDoc('seed-tutorial.json'), 0);
    expect(trace.nodes.map((n) => n.id)).toEqual(['x', 'hidden', 'relu', 'hidden2', 'sigmoid', 'output', 'softmax', 'labels', 'loss']);
    const hidden = trace.nodes[1];
    // z = W x + b for the first neuron, by hand.
    const x = [0.1, 0.2, 0.7].map(Math.fround);
    const w = [0.1, 0.3, 0.4].map(Math.fround);
    const z0 = (hidden.output as number[][])[0][0];
    expect(z0).toBeCloseTo(x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + Math.fround(0.15277413), 6);
    // The loss node's gradient is 1; each node's gradient is what its only consumer passes back.
    expect(trace.nodes.at(-1)?.grad).toBe(1);
    expect(trace.nodes[2].inputs[0].grad).toEqual(hidden.grad);
    const weight = trace.parameters.find((p) => p.name === 'hidden.weight');
    expect(weight?.node).toBe('hidden');
    // dL/dW = dL/dz · xᵀ
    const g = (hidden.grad as number[][])[0];
    expect((weight?.grad as number[][])[1][2]).toBeCloseTo(g[1] * x[2], 7);
    // A new Adam every step (the notebook's loop): step 1, m̂ = g, v̂ = g², Δ = −lr·g/(|g|+eps).
    const update = weight?.update;
    expect(update).toMatchObject({ optimizer: 'Adam', lr: 0.09, step: 1 });
    const g12 = (weight?.grad as number[][])[1][2];
    expect((update?.derived.m_hat as number[][])[1][2]).toBeCloseTo(g12, 7);
    expect((update?.derived.v_hat as number[][])[1][2]).toBeCloseTo(g12 * g12, 9);
    expect((update?.delta as number[][])[1][2]).toBeCloseTo(-0.09 * Math.sign(g12), 5);
  });

  it('gives the same step the training then takes (one sample, one batch)', async () => {
    for (const file of ['seed-tutorial.json', 'seed-tutorial-adam-once.json']) {
      const h = harness();
      await h.request({ type: 'open', project: exampleDoc(file) });
      await h.request({ type: 'train', epochs: 3 });
      const trace = ((await h.request({ type: 'trace', sample: 0 })) as EventOf<'traced'>).trace;
      await h.request({ type: 'train', epochs: 1 });
      const after = ((await h.request({ type: 'setWeights', weights: {} })) as EventOf<'weights'>).weights;
      for (const p of trace.parameters) expect(p.update?.after, `${file} ${p.name}`).toEqual(after[p.name]);
      const adam = trace.parameters[0].update;
      expect(adam?.step).toBe(file === 'seed-tutorial.json' ? 1 : 4);
      if (file === 'seed-tutorial-adam-once.json') expect(adam?.state).toHaveProperty('exp_avg');
    }
  });

  it('traces an earlier epoch of the run with that epoch\'s weights', async () => {
    const h = harness();
    await h.request({ type: 'open', project: exampleDoc('xor.json') });
    const before = ((await h.request({ type: 'trace', sample: 2 })) as EventOf<'traced'>).trace;
    await h.request({ type: 'train', epochs: 10 });
    const then = ((await h.request({ type: 'trace', sample: 2, epoch: 0 })) as EventOf<'traced'>).trace;
    expect(then).toEqual(before);
    const now = ((await h.request({ type: 'trace', sample: 2 })) as EventOf<'traced'>).trace;
    expect(now.epoch).toBe(10);
    expect(now.loss).not.toBe(before.loss);
    expect(((await h.request({ type: 'trace', sample: 2, epoch: 10 })) as EventOf<'traced'>).trace).toEqual(now);
    expect(await h.request({ type: 'trace', sample: 2, epoch: 11 })).toMatchObject({ type: 'error', message: 'Epoch 11 cannot be traced: training has done 10 epochs so far.' });
    expect(await h.request({ type: 'trace', sample: 4 })).toMatchObject({ type: 'error', message: 'There is no sample 4: the project has 4 samples (0 to 3).' });
    // SGD with momentum: lr·g, and the momentum buffer after the step.
    const update = now.parameters[0].update;
    expect(Object.keys(update?.derived ?? {})).toEqual(['lr_grad']);
    expect(Object.keys(update?.state ?? {})).toEqual(['momentum_buffer']);
  });

  it('gives each edge its own gradient where an output feeds several nodes', async () => {
    // out = mean(relu(h) + h), h = Linear(x): h feeds both the ReLU and the Add.
    const doc = {
      format: 'backprop-studio-project', version: 1,
      nodes: [
        { id: 'x', type: 'Input', params: { features: 2 } },
        { id: 'h', type: 'Linear', params: { in_features: 2, out_features: 2 }, tensors: { weight: [[1, -2], [0.5, 1]], bias: [0, 0] } },
        { id: 'r', type: 'ReLU' },
        { id: 's', type: 'Add' },
        { id: 'm', type: 'Mean' },
      ],
      edges: [
        { from: { node: 'x', port: 'out' }, to: { node: 'h', port: 'in' } },
        { from: { node: 'h', port: 'out' }, to: { node: 'r', port: 'in' } },
        { from: { node: 'r', port: 'out' }, to: { node: 's', port: 'in1' } },
        { from: { node: 'h', port: 'out' }, to: { node: 's', port: 'in2' } },
        { from: { node: 's', port: 'out' }, to: { node: 'm', port: 'in' } },
      ],
      data: { samples: [[1, 1]] },
      training: { epochs: 1, optimizer: { type: 'SGD', lr: 0.1 } },
    };
    const trace = await traceOf(doc, 0);
    const node = (id: string) => trace.nodes.find((n) => n.id === id) as Trace['nodes'][number];
    // h = [-1, 1.5]; relu passes only the second; each element of s gets 1/2 from the mean.
    expect(node('h').output).toEqual([[-1, 1.5]]);
    expect(node('r').inputs[0].grad).toEqual([[0, 0.5]]);
    expect(node('s').inputs[1].grad).toEqual([[0.5, 0.5]]);
    expect(node('h').grad).toEqual([[0.5, 1]]);
  });

  it('changes nothing: training after a trace gives the numbers it gives without one', async () => {
    const plain = harness();
    await plain.request({ type: 'open', project: exampleDoc('iris.json') });
    await plain.request({ type: 'train', epochs: 3 });
    const traced = harness();
    await traced.request({ type: 'open', project: exampleDoc('iris.json') });
    await traced.request({ type: 'train', epochs: 1 });
    await traced.request({ type: 'trace', sample: 5 });
    await traced.request({ type: 'train', epochs: 2 });
    const records = (h: typeof plain) => h.events.filter((e) => e.type === 'progress').flatMap((e) => e.records);
    expect(records(traced)).toEqual(records(plain));
  });
});
