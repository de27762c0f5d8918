/**
 * A run from the editor's side against a real engine host in this process: when it ends, the
 * trained weights go into the document and the engine keeps the run (its epochs still trace);
 * a new run opens the project afresh and counts epochs from 1 again.
 */
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../../engine/host/host';
import { loadProject, type Request, roundFloat32 } from '../../../engine/protocol';
import { createEngineClient, type Transport } from '../../../renderer/host/client';
import { rounded } from '../../../renderer/state/run.svelte';
import { Studio } from '../../../renderer/state/studio.svelte';
import { exampleDoc } from '../../engine/host/helpers';

/** A host in this process; messages cross as structured clones, asynchronously, as over a port. */
function inProcess(): Transport & { sent: Request[] } {
  let host: Host;
  const sent: Request[] = [];
  return {
    sent,
    post(message) {
      sent.push(message);
      setTimeout(() => host.receive(structuredClone(message)), 0);
    },
    listen(onMessage) {
      host = createHost((event) => queueMicrotask(() => onMessage(structuredClone(event))));
    },
    close() {},
  };
}

describe('a finished run', () => {
  it('leaves the engine holding it: earlier epochs trace, expected values do not reopen it, a new run starts over', async () => {
    const transport = inProcess();
    const client = createEngineClient(transport);
    const studio = new Studio();
    studio.connect(client);
    studio.doc.load(loadProject(JSON.stringify(exampleDoc('seed-tutorial.json'))), 'seed-tutorial.json');
    const opens = () => transport.sent.filter((m) => m.type === 'open').length;
    await studio.run?.start();
    expect(studio.run?.records).toHaveLength(49);
    const firstLoss = studio.run?.records[0].loss;
    // The history went into the document, every epoch's values as the shortest decimals of their float32.
    const history = studio.doc.project.history ?? [];
    expect(history.map((h) => h.epoch)).toEqual(studio.run?.records.map((r) => r.epoch));
    expect(history.every((h, i) => h.loss === roundFloat32(studio.run?.records[i].loss as number))).toBe(true);
    expect(history.at(-1)?.outputs).toEqual(rounded(studio.run?.records.at(-1)?.outputs as number[][]));
    await studio.engine?.update();
    const opened = opens();
    // The document has the trained weights; the engine was not sent it again, so epoch 10 still traces.
    const at10 = await client.trace(0, 10);
    expect(at10.epoch).toBe(10);
    const trained = studio.doc.project.nodes.find((n) => n.id === 'output');
    expect(trained?.type === 'Linear' ? trained.tensors?.bias : undefined).toHaveLength(3);
    studio.doc.apply('Expect', (p) => ({ ...p, expected: [{ node: 'softmax', quantity: 'output', epoch: 1, values: [[0.2, 0.3, 0.5]] }] }));
    await studio.engine?.update();
    expect(opens()).toBe(opened);
    expect((await client.trace(0, 10)).loss).toBe(at10.loss);
    // A new run: the project (with its trained weights) is opened again and counts from epoch 1.
    await studio.run?.start();
    expect(opens()).toBe(opened + 1);
    expect(studio.run?.records.map((r) => r.epoch).slice(0, 2)).toEqual([1, 2]);
    // …from the trained weights: its first loss is the one the first run ended near, not the untrained one.
    expect(studio.run?.records[0].loss).not.toBe(firstLoss);
    // The document holds the new run's history alone; undo brings back the first run's, untouched by the second.
    expect(studio.doc.project.history?.map((h) => h.epoch)).toEqual(studio.run?.records.map((r) => r.epoch));
    expect(studio.doc.project.history?.[0].loss).toBe(roundFloat32(studio.run?.records[0].loss as number));
    studio.doc.undo();
    expect(studio.doc.project.history).toEqual(history);
    client.close();
  }, 60_000);
});
