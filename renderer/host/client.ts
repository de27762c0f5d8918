/**
 * The app's client of the engine host, whatever carries the messages (a Web Worker in the
 * browser, the preload's engine channel on the desktop): requests become promises, progress
 * becomes callbacks, and a restarted host gets the model back by itself.
 *
 * Restart: when the transport reports that the host was replaced (it crashed, or stopped
 * answering), requests in flight settle (a running training resolves as 'failed'), the project
 * that was open is sent again together with the last weights and the per-epoch history this
 * client saw, and listeners get one notice. So nothing the user made or trained is lost; only
 * the optimizer's state (e.g. Adam's moments) starts afresh.
 */
import {
  type ComputedWeights,
  type EngineClient,
  type EpochRecord,
  type Event,
  type EventOf,
  type Exported,
  type ExportFormat,
  parseEvent,
  type Request,
  type RequestOf,
  type Trace,
} from '../../engine/protocol';

/** What carries messages to one host and back. */
export interface Transport {
  post(message: Request): void;
  /** Calls `onMessage` with every message from the host, `onRestart` after the host was replaced. */
  listen(onMessage: (data: unknown) => void, onRestart: () => void): void;
  close(): void;
}

/** A request the host refused: its one-sentence message, and every problem where there were several. */
export class EngineError extends Error {
  constructor(message: string, readonly problems: readonly { message: string }[] = []) {
    super(message);
    this.name = 'EngineError';
  }
}

type Listener = (event: EventOf<'notice'> | EventOf<'error'>) => void;
type ProgressListener = (event: EventOf<'progress'>) => void;
type Body<T extends Request['type']> = Omit<RequestOf<T>, 'type' | 'id'>;

interface Pending {
  type: Request['type'];
  resolve(event: Event): void;
  reject(error: Error): void;
  onProgress?: ProgressListener;
}

/** Why a request in flight cannot be answered after the host was replaced. */
const LOST = 'The engine stopped and was restarted before it could answer.';

export function createEngineClient(transport: Transport): EngineClient {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const listeners = new Set<Listener>();
  // What a replacement host needs to carry on where this one was.
  let project: unknown;
  let weights: ComputedWeights | undefined;
  let history: EpochRecord[] = [];
  let restoring: Promise<unknown> = Promise.resolve();

  const emit = (event: EventOf<'notice'> | EventOf<'error'>) => {
    for (const listener of listeners) listener(event);
  };

  function receive(data: unknown): void {
    const parsed = parseEvent(data);
    if (!parsed.ok) {
      emit({ type: 'error', message: `The engine sent a message that could not be read: ${parsed.message}` });
      return;
    }
    const event = parsed.value;
    if (event.type === 'notice' || event.type === 'ready') {
      if (event.type === 'notice') emit(event);
      return;
    }
    if (event.type === 'error' && event.requestId === undefined) {
      emit(event);
      return;
    }
    const id = event.type === 'error' ? (event.requestId as number) : event.id;
    const entry = pending.get(id);
    if (!entry) return; // an answer to a request that already settled (e.g. before a restart)
    switch (event.type) {
      case 'progress':
        history.push(...event.records);
        if (event.weights) weights = event.weights;
        entry.onProgress?.(event);
        return;
      case 'error':
        pending.delete(id);
        entry.reject(new EngineError(event.message, event.problems));
        return;
      case 'weights':
        history = history.filter((r) => r.epoch <= event.epoch);
        weights = event.weights;
        break;
    }
    pending.delete(id);
    entry.resolve(event);
  }

  function restarted(): void {
    for (const [id, entry] of pending) {
      pending.delete(id);
      if (entry.type === 'train' || entry.type === 'resume') {
        const epoch = history.at(-1)?.epoch ?? 0;
        entry.resolve({ type: 'trained', id, reason: 'failed', epoch, message: `${LOST} Training stopped after epoch ${epoch}; everything up to there is kept.` });
      } else {
        entry.reject(new EngineError(LOST));
      }
    }
    if (project === undefined) {
      emit({ type: 'notice', message: 'The engine stopped and was restarted.' });
      return;
    }
    const state = weights ? { weights, history } : undefined;
    restoring = call('open', { project, ...(state ? { state } : {}) }).then(
      () => emit({ type: 'notice', message: 'The engine stopped and was restarted; your model and its training so far were restored (the optimizer starts afresh).' }),
      (e: Error) => emit({ type: 'notice', message: `The engine stopped and was restarted, but your model could not be restored: ${e.message}` }),
    );
  }

  function call<T extends Request['type']>(type: T, body: Body<T>, onProgress?: ProgressListener): Promise<Event> {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { type, resolve, reject, onProgress });
      transport.post({ ...body, type, id } as Request);
    });
  }

  /** A request sent after any restore in progress, so it reaches a host that has the model. */
  const send = <T extends Request['type']>(type: T, body: Body<T>, onProgress?: ProgressListener): Promise<Event> =>
    restoring.then(() => call(type, body, onProgress));

  transport.listen(receive, restarted);

  return {
    async open(doc) {
      const event = (await send('open', { project: doc })) as EventOf<'opened'>;
      project = doc;
      weights = undefined;
      history = [];
      return event;
    },
    train: (options, onProgress) => send('train', options, onProgress) as Promise<EventOf<'trained'>>,
    pause: async () => void (await send('pause', {})),
    resume: (options = {}, onProgress) => send('resume', options, onProgress) as Promise<EventOf<'trained'>>,
    cancel: async () => void (await send('cancel', {})),
    reset: () => send('reset', {}) as Promise<EventOf<'weights'>>,
    setWeights: (values) => send('setWeights', { weights: values }) as Promise<EventOf<'weights'>>,
    trace: async (sample, epoch) => ((await send('trace', epoch === undefined ? { sample } : { sample, epoch })) as EventOf<'traced'>).trace as Trace,
    async export<F extends ExportFormat>(format: F): Promise<Exported<F>> {
      const event = (await send('export', { format })) as EventOf<'exported'>;
      return (format === 'onnx' ? event.bytes : event.text) as Exported<F>;
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => transport.close(),
  };
}
