/** The protocol's validators: every message type both ways, and what a malformed one is told. */
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES, parseEvent, parseRequest, REQUEST_TYPES } from '../../../engine/protocol';

describe('requests', () => {
  it('has the message names the app is built against', () => {
    expect(REQUEST_TYPES).toEqual(['open', 'train', 'pause', 'resume', 'cancel', 'reset', 'setWeights', 'trace', 'export']);
    expect(EVENT_TYPES).toEqual(['ready', 'opened', 'progress', 'trained', 'ok', 'weights', 'traced', 'exported', 'notice', 'error']);
  });

  it('accepts each request in its documented form', () => {
    const good = [
      { type: 'open', id: 1, project: { anything: true } },
      { type: 'open', id: 1, project: {}, state: { weights: { w: [[NaN]] }, history: [{ epoch: 1, loss: NaN, outputs: [1] }] } },
      { type: 'train', id: 2 },
      { type: 'train', id: 2, epochs: 10, until: 'batch', weights: false },
      { type: 'pause', id: 3 },
      { type: 'resume', id: 4, until: 'epoch' },
      { type: 'cancel', id: 5 },
      { type: 'reset', id: 6 },
      { type: 'setWeights', id: 7, weights: { 'hidden.weight': [[1, 2]], b: 3 } },
      { type: 'trace', id: 8, sample: 0, epoch: 3 },
      { type: 'export', id: 9, format: 'project' },
    ];
    for (const message of good) expect(parseRequest(message), JSON.stringify(message)).toEqual({ ok: true, value: message });
  });

  it('says what is wrong with a malformed request, keeping its id when it has one', () => {
    expect(parseRequest({ type: 'train', id: 4, epochs: -1 })).toEqual({ ok: false, requestId: 4, message: expect.stringMatching(/^The request 'train' is malformed at "epochs"/) });
    expect(parseRequest({ type: 'setWeights', id: 5, weights: { w: [1, 'x'] } })).toMatchObject({ ok: false, requestId: 5 });
    expect(parseRequest({ type: 'setWeights', id: 5, weights: { w: [Infinity] } })).toMatchObject({ ok: false, requestId: 5 });
    expect(parseRequest({ type: 'export', id: 6, format: 'tflite' })).toMatchObject({ ok: false, requestId: 6, message: expect.stringMatching(/at "format"/) });
    expect(parseRequest({ type: 'trace', id: 1.5, sample: 0 })).toEqual({ ok: false, message: expect.stringMatching(/at "id"/) });
    expect(parseRequest(undefined)).toEqual({ ok: false, message: 'A request needs a "type".' });
  });
});

describe('events', () => {
  it('accepts what the host sends, NaN included (a diverging run)', () => {
    const good = [
      { type: 'ready' },
      { type: 'progress', id: 1, records: [{ epoch: 1, loss: NaN, outputs: [[Infinity]] }], batch: 0, weights: { w: [NaN] } },
      { type: 'trained', id: 1, reason: 'paused', epoch: 3 },
      { type: 'exported', id: 1, format: 'onnx', bytes: Uint8Array.from([8, 8]) },
      { type: 'notice', message: 'The engine restarted.' },
      { type: 'error', message: 'No.', requestId: 2, problems: [{ message: 'No.', node: 'a', path: 'nodes[0]' }] },
    ];
    for (const message of good) expect(parseEvent(message).ok, JSON.stringify(message)).toBe(true);
  });

  it('refuses events the host never sends', () => {
    expect(parseEvent({ type: 'trained', id: 1, reason: 'bored', epoch: 1 })).toMatchObject({ ok: false });
    expect(parseEvent({ type: 'progress', id: 1 })).toEqual({ ok: false, message: 'The event \'progress\' lacks "records".' });
    expect(parseEvent({ type: 'hello' })).toEqual({ ok: false, message: 'Unknown event type \'hello\'.' });
    expect(parseEvent({ type: 'exported', id: 1, format: 'onnx', bytes: [8, 8] })).toMatchObject({ ok: false, message: expect.stringMatching(/at "bytes"/) });
  });
});
