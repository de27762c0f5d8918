/** The app's engine client over an in-process host: promises, progress, refusals, and a replaced host. */
import { describe, expect, it } from 'vitest';
import { createHost, type Host } from '../../../engine/host/host';
import type { Request } from '../../../engine/protocol';
import { createEngineClient, EngineError, type Transport } from '../../../renderer/host/client';
import { exampleDoc } from '../../engine/project/helpers';

/** Messages cross as structured clones, asynchronously, as over a port. */
function inProcess(): Transport & { replace(): void; sent: Request[] } {
  let host: Host;
  let onMessage: (data: unknown) => void = () => {};
  let onRestart: () => void = () => {};
  const sent: Request[] = [];
  const start = () => {
    const own: Host = createHost((event) => queueMicrotask(() => host === own && onMessage(structuredClone(event))));
    host = own;
  };
  return {
    sent,
    post(message) {
      sent.push(message);
      const target = host;
      setTimeout(() => target.receive(structuredClone(message)), 0);
    },
    listen(message, restart) {
      onMessage = message;
      onRestart = restart;
      start();
    },
    close() {},
    replace() {
      start();
      onRestart();
    },
  };
}

describe('the engine client', () => {
  it('turns requests into promises and progress into callbacks', async () => {
    const client = createEngineClient(inProcess());
    const opened = await client.open(exampleDoc('xor.json'));
    expect(opened.problems).toEqual([]);
    const epochs: number[] = [];
    const trained = await client.train({ epochs: 50 }, (p) => epochs.push(...p.records.map((r) => r.epoch)));
    expect(trained).toMatchObject({ reason: 'finished', epoch: 50 });
    expect(epochs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect((await client.trace(1)).sample).toBe(1);
    expect(JSON.parse(await client.export('project')).history).toHaveLength(50);
    expect((await client.reset()).epoch).toBe(0);
  });

  it('rejects a refused request with the host\'s sentence and every problem', async () => {
    const client = createEngineClient(inProcess());
    await expect(client.train({})).rejects.toThrow('No project is open; open one first.');
    await client.open(exampleDoc('xor.json'));
    const error = await client.setWeights({ 'out.bias': [1, 2], nope: [0] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).problems).toHaveLength(2);
  });

  it('after the host is replaced: a running training ends as failed, the model comes back, one notice', async () => {
    const transport = inProcess();
    const client = createEngineClient(transport);
    const notices: string[] = [];
    client.onEvent((e) => notices.push(e.message));
    await client.open(exampleDoc('xor.json'));
    let replaced = false;
    let lastEpoch = 0;
    const trained = await client.train({ epochs: 1_000_000 }, (p) => {
      lastEpoch = p.records.at(-1)?.epoch ?? lastEpoch;
      if (!replaced && lastEpoch >= 20) {
        replaced = true;
        transport.replace();
      }
    });
    expect(trained).toMatchObject({ reason: 'failed', epoch: lastEpoch });
    await expect(client.export('weights')).resolves.toMatch(/"hidden\.weight"/);
    expect(notices).toEqual([expect.stringMatching(/^The engine stopped and was restarted; your model and its training so far were restored/)]);
    const restore = transport.sent.filter((m) => m.type === 'open').at(-1);
    expect(restore).toMatchObject({ type: 'open', state: { history: expect.any(Array) } });
    expect((restore as Extract<Request, { type: 'open' }>).state?.history.map((r) => r.epoch)).toEqual(Array.from({ length: lastEpoch }, (_, i) => i + 1));
  });
});
