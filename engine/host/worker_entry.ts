/** The host in a browser Web Worker (`npm run web`): messages in and out through the Worker's own port. */
import { createHost } from './host';

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((e: { data: unknown }) => void) | null;
}

const scope = globalThis as unknown as WorkerScope;
const host = createHost((event) => scope.postMessage(event));
scope.onmessage = (e) => host.receive(e.data);
