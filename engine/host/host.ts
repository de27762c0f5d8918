/**
 * The engine host: speaks the protocol (engine/protocol.ts) for whatever carries its messages —
 * an Electron utility process's MessagePort, a Web Worker, a forked Node process in the tests.
 * `createHost(send)` gives `{ receive }`; the transport calls receive with each message and
 * delivers what send gets.
 *
 * Training runs in slices of a few milliseconds, yielding to the event loop between them, so
 * pause, cancel and trace requests are handled between optimizer steps while training runs.
 * Every epoch's record is sent, batched so the app gets at most PROGRESS_PER_SECOND messages a
 * second however fast the epochs are.
 */
import { type Event, parseRequest, PROGRESS_PER_SECOND, type Request } from '../protocol';
import { ProjectError } from '../project/problems';
import type { EpochRecord } from '../project/schema';
import { problemsOf, Session } from './session';

export type Send = (event: Event) => void;

export interface Host {
  receive(message: unknown): void;
}

/** Dawn's backend under Node (WEBGPU_BACKEND, e.g. opengles for Mesa); browsers and workers use navigator.gpu. */
const DAWN_BACKEND = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.WEBGPU_BACKEND;

/** How long one slice of training runs before the host looks at its messages again. */
const SLICE_MS = 10;
const PROGRESS_INTERVAL_MS = 1000 / PROGRESS_PER_SECOND;

type Until = 'end' | 'epoch' | 'batch';

interface Run {
  id: number;
  /** Train until this many epochs are complete. */
  target: number;
  until: Until;
  weights: boolean;
  /** Records not sent yet, and whether a step was taken since the last progress message. */
  pending: EpochRecord[];
  stepped: boolean;
  lastSent: number;
}

/** A macrotask turn: setImmediate under Node, a MessageChannel round trip in a Worker (setTimeout would clamp to 4 ms). */
const yieldToLoop: () => Promise<void> = typeof setImmediate === 'function'
  ? () => new Promise((resolve) => setImmediate(resolve))
  : () => new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.addEventListener('message', () => {
      port1.close();
      resolve();
    });
    port1.start();
    port2.postMessage(null);
  });

export function createHost(send: Send): Host {
  let session: Session | null = null;
  let run: Run | null = null;
  let paused: Pick<Run, 'target' | 'weights'> | null = null;
  /**
   * Requests wait, in order, for an earlier one that waits on the device (open, reset) and for a
   * step in flight (on the GPU it reads its values back): `waiting` of them, answered by `queue`.
   */
  let waiting = 0;
  let queue = Promise.resolve();
  let stepping: Promise<EpochRecord | null> | null = null;

  /** A refusal in one sentence, answered as an error to the request. */
  const refuse = (message: string): never => {
    throw new ProjectError([{ message }]);
  };
  const current = (): Session => session ?? refuse('No project is open; open one first.');

  function flush(r: Run): void {
    if (r.pending.length === 0 && !r.stepped) return;
    const s = current();
    send({
      type: 'progress',
      id: r.id,
      records: r.pending,
      batch: s.stepper.batch,
      ...(r.weights ? { weights: s.weights() } : {}),
    });
    r.pending = [];
    r.stepped = false;
    r.lastSent = performance.now();
  }

  /** Ends the running training now, reporting why; paused training can be resumed. */
  function stop(reason: 'finished' | 'paused' | 'cancelled' | 'failed', message?: string): void {
    const r = run;
    if (!r) return;
    run = null;
    try {
      flush(r);
    } finally {
      paused = reason === 'paused' ? { target: r.target, weights: r.weights } : null;
      send({ type: 'trained', id: r.id, reason, epoch: current().epoch, ...(message ? { message } : {}) });
    }
  }

  async function drive(r: Run): Promise<void> {
    const s = current();
    while (run === r) {
      const sliceEnd = performance.now() + SLICE_MS;
      do {
        if (s.epoch >= r.target && s.stepper.batch === 0) return stop('finished');
        // Requests that came during a step on the GPU go first (they may pause or cancel).
        if (waiting > 0) break;
        let record: EpochRecord | null;
        const step = (stepping = s.step());
        try {
          record = await step;
        } catch (e) {
          return stop('failed', problemsOf(e).map((p) => p.message).join(' '));
        } finally {
          stepping = null;
        }
        r.stepped = true;
        if (record) r.pending.push(record);
        if (r.until === 'batch' || (r.until === 'epoch' && record)) return stop('paused');
      } while (performance.now() < sliceEnd);
      if (performance.now() - r.lastSent >= PROGRESS_INTERVAL_MS) flush(r);
      await yieldToLoop();
    }
  }

  function start(id: number, target: number, until: Until, weights: boolean): void {
    if (run) refuse('Training is already running; pause or cancel it first.');
    current().checkTrainable();
    paused = null;
    run = { id, target, until, weights, pending: [], stepped: false, lastSent: performance.now() };
    void drive(run);
  }

  async function open(id: number, request: Extract<Request, { type: 'open' }>): Promise<void> {
    const opening = new Session(request.project, request.state);
    const notice = await opening.place({ backend: DAWN_BACKEND, on_fallback: (message) => send({ type: 'notice', message }) });
    session = opening;
    send({ type: 'opened', id, problems: session.problems, summary: session.summary, device: session.device });
    if (notice) send({ type: 'notice', message: notice });
  }

  async function reset(id: number): Promise<void> {
    const s = current();
    stop('cancelled');
    paused = null;
    await s.reset();
    send({ type: 'weights', id, weights: s.weights(), epoch: 0 });
  }

  /** Answers a request; a promise for those that wait on the device (open, reset). */
  function handle(request: Request): Promise<void> | undefined {
    const { id } = request;
    switch (request.type) {
      case 'open': {
        stop('cancelled');
        paused = null;
        return open(id, request);
      }
      case 'train': {
        const s = current();
        const target = request.epochs === undefined ? s.plannedEpochs : s.epoch + request.epochs;
        start(id, target, request.until ?? 'end', request.weights ?? true);
        return;
      }
      case 'resume': {
        if (run) refuse('Training is already running.');
        if (!paused) return refuse('Nothing is paused; train to start.');
        start(id, paused.target, request.until ?? 'end', paused.weights);
        return;
      }
      case 'pause':
        if (run) stop('paused');
        send({ type: 'ok', id });
        return;
      case 'cancel':
        stop('cancelled');
        paused = null;
        send({ type: 'ok', id });
        return;
      case 'reset':
        return reset(id);
      case 'setWeights': {
        if (run) refuse('Pause training before setting weights.');
        const s = current();
        s.setWeights(request.weights);
        send({ type: 'weights', id, weights: s.weights(), epoch: s.epoch });
        return;
      }
      case 'trace':
        send({ type: 'traced', id, trace: current().trace(request.sample, request.epoch) });
        return;
      case 'export':
        send({ type: 'exported', id, format: request.format, text: current().export(request.format) });
        return;
    }
  }

  send({ type: 'ready' });

  return {
    receive(message) {
      if (waiting === 0 && !stepping) {
        const pending = answer(message);
        if (!pending) return;
        waiting++;
        queue = pending.finally(() => waiting--);
        return;
      }
      waiting++;
      const step = stepping;
      queue = queue.then(() => step).then(() => answer(message), () => answer(message)).finally(() => waiting--);
    },
  };

  function refusal(id: number, e: unknown): void {
    const problems = problemsOf(e);
    send({
      type: 'error',
      requestId: id,
      message: problems.map((p) => p.message).join(' '),
      ...(problems.length > 1 ? { problems } : {}),
    });
  }

  function answer(message: unknown): Promise<void> | undefined {
    const parsed = parseRequest(message);
    if (!parsed.ok) {
      send({ type: 'error', message: parsed.message, ...(parsed.requestId !== undefined ? { requestId: parsed.requestId } : {}) });
      return undefined;
    }
    const { id } = parsed.value;
    try {
      return handle(parsed.value)?.catch((e: unknown) => refusal(id, e));
    } catch (e) {
      refusal(id, e);
      return undefined;
    }
  }
}
