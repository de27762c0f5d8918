/**
 * The host in a Node process: an Electron utility process (main sends it a MessagePort for the
 * engine channel on process.parentPort, and hears a heartbeat back there) or, in the tests, a
 * process started with child_process.fork (messages over its IPC channel, serialization
 * 'advanced' so NaN and typed values survive as they do over a MessagePort).
 */
import { ENGINE_HEARTBEAT_MS } from '../protocol';
import { createHost } from './host';

interface PortMain {
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
  start(): void;
}
interface ParentPort {
  on(event: 'message', listener: (e: { data: unknown; ports: PortMain[] }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as { parentPort?: ParentPort }).parentPort;
if (parentPort) {
  parentPort.on('message', ({ ports: [port] }) => {
    if (!port) return;
    const host = createHost((event) => port.postMessage(event));
    port.on('message', ({ data }) => host.receive(data));
    port.start();
  });
  setInterval(() => parentPort.postMessage({ type: 'heartbeat' }), ENGINE_HEARTBEAT_MS);
} else if (process.send) {
  const host = createHost((event) => process.send?.(event));
  process.on('message', (message) => host.receive(message));
  process.on('disconnect', () => process.exit(0)); // the parent is gone

}
