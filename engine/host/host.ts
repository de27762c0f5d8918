/**
 * The engine host: speaks the protocol (engine/protocol.ts) for whatever carries its messages —
 * an Electron utility process's MessagePort, a Web Worker, a forked Node process in the tests.
 * `createHost(send)` gives `{ receive }`; the transport calls receive with each message and
 * delivers what send gets.
 *
 * Training runs in slices of a few milliseconds, yielding to the event loop between them, so
 * pause, cancel and trace requests are handled between optimizer steps while training runs.
 * Every epoch's record is sent, batched so the app gets at most PROGRESS_PER_SECOND messages a
 * second however fast the epochs are. On the GPU the weights are read back only for what needs
 * them: a progress message that carries them, a snapshot, a trace.
 */
import { type Event, type EventOf, parseRequest, PROGRESS_PER_SECOND, type Request } from '../protocol';
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
type Snapshot = NonNullable<EventOf<'progress'>['snapshots']>[number];

interface Run {
  id: number;
  /** Train until this many epochs are complete. */
  target: number;
  until: Until;
  weights: boolean;
  /** Every this many epochs the weights go with the progress (0: never). */
  snapshotEvery: number;
  /** Records and snapshots not sent yet, and whether a step was taken since the last progress message. */
  pending: EpochRecord[];
  snapshots: Snapshot[];
  stepped: boolean;
  lastSent: number;
  /** The progress messages under way, in order (each may wait for a read back). */
  sending: Promise<void>;
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
  let paused: Pick<Run, 'target' | 'weights' | 'snapshotEvery'> | null = null;
  /**
   * Requests wait, in order, for an earlier one that waits on the device (open, reset, trace, …)
   * and for work of the training in flight (a step, a read back): `waiting` of them, answered by `queue`.
   */
  let waiting = 0;
  let queue = Promise.resolve();
  let inFlight: Promise<unknown> | null = null;

  /** A refusal in one sentence, answered as an error to the request. */
  const refuse = (message: string): never => {
    throw new ProjectError([{ message }]);
  };
  const current = (): Session => session ?? refuse('No project is open; open one first.');

  /** Sends what the run has not sent yet, after the messages under way; the weights read back first when it carries them. */
  function flush(r: Run): Promise<void> {
    const sending = r.sending.catch(() => undefined).then(() => sendProgress(r));
    r.sending = sending;
    return sending;
  }

  async function sendProgress(r: Run): Promise<void> {
    if (r.pending.length === 0 && !r.stepped) return;
    const s = current();
    if (r.weights) await s.sync();
    send({
      type: 'progress',
      id: r.id,
      records: r.pending,
      batch: s.stepper.batch,
      ...(r.weights ? { weights: s.weights() } : {}),
      ...(r.snapshots.length > 0 ? { snapshots: r.snapshots } : {}),
    });
    r.pending = [];
    r.snapshots = [];
    r.stepped = false;
    r.lastSent = performance.now();
  }

  /** Ends training run `r` (by default the running one) now, reporting why; paused training can be resumed. */
  async function stop(reason: 'finished' | 'paused' | 'cancelled' | 'failed', message?: string, r = run): Promise<void> {
    if (!r || run !== r) return;
    run = null;
    paused = reason === 'paused' ? { target: r.target, weights: r.weights, snapshotEvery: r.snapshotEvery } : null;
    try {
      await flush(r);
    } catch (e) {
      // A read back that failed (the GPU lost) loses no record: they go without the weights.
      if (r.pending.length > 0) send({ type: 'progress', id: r.id, records: r.pending, batch: current().stepper.batch });
      message ??= problemsOf(e).map((p) => p.message).join(' ');
    } finally {
      send({ type: 'trained', id: r.id, reason, epoch: current().epoch, ...(message ? { message } : {}) });
    }
  }

  async function drive(r: Run): Promise<void> {
    const s = current();
    while (run === r) {
      // A slice ends early when a progress message is due, so they go at PROGRESS_PER_SECOND, not every other slice.
      const sliceEnd = Math.min(performance.now() + SLICE_MS, r.lastSent + PROGRESS_INTERVAL_MS);
      do {
        if (s.epoch >= r.target && s.stepper.batch === 0) return busy(stop('finished', undefined, r));
        // Requests that came during a step on the GPU go first (they may pause or cancel).
        if (waiting > 0) break;
        let record: EpochRecord | null;
        try {
          record = await busy(step(s, r));
        } catch (e) {
          return busy(stop('failed', problemsOf(e).map((p) => p.message).join(' '), r));
        }
        r.stepped = true;
        if (record) r.pending.push(record);
        if (r.until === 'batch' || (r.until === 'epoch' && record)) return busy(stop('paused', undefined, r));
      } while (performance.now() < sliceEnd);
      if (run === r && performance.now() - r.lastSent >= PROGRESS_INTERVAL_MS) {
        try {
          await busy(flush(r));
        } catch (e) {
          return busy(stop('failed', problemsOf(e).map((p) => p.message).join(' '), r));
        }
      }
      await yieldToLoop();
    }
  }

  /** One step, and the weights of the epoch it ended when they are due with the progress. */
  async function step(s: Session, r: Run): Promise<EpochRecord | null> {
    const record = await s.step();
    if (record && r.snapshotEvery > 0 && record.epoch % r.snapshotEvery === 0) {
      await s.sync();
      r.snapshots.push({ epoch: record.epoch, weights: s.weights() });
    }
    return record;
  }

  /** Work of the training that requests arriving meanwhile wait for. */
  async function busy<T>(work: Promise<T>): Promise<T> {
    inFlight = work;
    try {
      return await work;
    } finally {
      inFlight = null;
    }
  }

  function start(id: number, target: number, until: Until, options: Pick<Run, 'weights' | 'snapshotEvery'>): void {
    if (run) refuse('Training is already running; pause or cancel it first.');
    current().checkTrainable();
    paused = null;
    run = { id, target, until, ...options, pending: [], snapshots: [], stepped: false, lastSent: performance.now(), sending: Promise.resolve() };
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
    await stop('cancelled');
    paused = null;
    await s.reset();
    send({ type: 'weights', id, weights: s.weights(), epoch: 0 });
  }

  /** Answers a request; a promise for those that wait on the device or on the training's last messages. */
  function handle(request: Request): Promise<void> | undefined {
    const { id } = request;
    switch (request.type) {
      case 'open':
        return stop('cancelled').then(() => {
          paused = null;
          return open(id, request);
        });
      case 'train': {
        const s = current();
        const target = request.epochs === undefined ? s.plannedEpochs : s.epoch + request.epochs;
        start(id, target, request.until ?? 'end', { weights: request.weights ?? true, snapshotEvery: request.snapshots ?? 0 });
        return;
      }
      case 'resume': {
        if (run) refuse('Training is already running.');
        if (!paused) return refuse('Nothing is paused; train to start.');
        start(id, paused.target, request.until ?? 'end', paused);
        return;
      }
      case 'pause':
        return stop('paused').then(() => send({ type: 'ok', id }));
      case 'cancel':
        return stop('cancelled').then(() => {
          paused = null;
          send({ type: 'ok', id });
        });
      case 'reset':
        return reset(id);
      case 'setWeights': {
        if (run) refuse('Pause training before setting weights.');
        const s = current();
        return s.setWeights(request.weights).then(() => send({ type: 'weights', id, weights: s.weights(), epoch: s.epoch }));
      }
      case 'trace':
        return current().trace(request.sample, request.epoch).then((trace) => send({ type: 'traced', id, trace }));
      case 'export': {
        const s = current();
        return s.sync().then(() => {
          const exported = s.export(request.format);
          send({ type: 'exported', id, format: request.format, ...(typeof exported === 'string' ? { text: exported } : { bytes: exported }) });
        });
      }
    }
  }

  send({ type: 'ready' });

  return {
    receive(message) {
      if (waiting === 0 && !inFlight) {
        const pending = answer(message);
        if (!pending) return;
        waiting++;
        queue = pending.finally(() => waiting--);
        return;
      }
      waiting++;
      const step = inFlight;
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
