/** Drives a host in this process, as the app's clients do: requests by id, replies collected. */
import { createHost, type Host } from '../../../engine/host/host';
import type { Event, EventOf } from '../../../engine/protocol';

export { exampleDoc } from '../project/helpers';

/** A request as the tests write it (the id is filled in). */
type Message = Record<string, unknown> & { type: string };

export interface Harness {
  host: Host;
  events: Event[];
  /** Sends a request; resolves with its final answer (any reply but progress). */
  request(message: Message): Promise<Event>;
  /** The progress messages answering request `id`. */
  progressOf(id: number): EventOf<'progress'>[];
  /** The id the next request gets. */
  nextId(): number;
  /** Resolves once request `id` has streamed its first progress message (training is under way). */
  progressed(id: number): Promise<void>;
}

export function harness(): Harness {
  const events: Event[] = [];
  const waiting = new Map<number, (e: Event) => void>();
  const progressWaiters = new Map<number, () => void>();
  let id = 1;
  const host = createHost((event) => {
    events.push(event);
    if (event.type === 'progress') progressWaiters.get(event.id)?.();
    const answers = event.type === 'error' ? event.requestId : 'id' in event && event.type !== 'progress' ? event.id : undefined;
    if (answers !== undefined) waiting.get(answers)?.(event);
  });
  return {
    host,
    events,
    request(message) {
      const requestId = id++;
      return new Promise((resolve) => {
        waiting.set(requestId, resolve);
        host.receive({ ...message, id: requestId });
      });
    },
    progressOf: (requestId) => events.filter((e): e is EventOf<'progress'> => e.type === 'progress' && e.id === requestId),
    nextId: () => id,
    progressed: (requestId) => (events.some((e) => e.type === 'progress' && e.id === requestId)
      ? Promise.resolve()
      : new Promise((resolve) => progressWaiters.set(requestId, resolve))),
  };
}
